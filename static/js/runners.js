// Runner page scripts. Asking before the cancel form (data-confirm) is static/js/confirm.js's job,
// loaded on every page; asking here too would show the question twice.
"use strict";
