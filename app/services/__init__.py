"""Use cases shared by the HTML pages and the JSON API: verb_noun functions that own one commit."""
