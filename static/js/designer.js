/* Flowdesk designer: turns the design JSON textarea into an SVG graph editor and keeps both in sync.
 *
 * The textarea stays the one thing the form submits; every edit here rewrites it, and typing in it
 * redraws the graph. Without this file the page is a plain JSON form that still saves.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var root = document.getElementById("designer");
  var source = document.getElementById("document");
  if (!root || !source) { return; }

  var graph = JSON.parse(root.getAttribute("data-graph") || "{}");
  var palette = JSON.parse(root.getAttribute("data-palette") || "[]");
  var readonly = root.getAttribute("data-readonly") === "true";
  var W = graph.nodeWidth || 170, H = graph.nodeHeight || 56, MARGIN = graph.margin || 30;
  var COLUMN = graph.column || 220, ROW = graph.row || 110;
  var JSON_FIELDS = ["config", "permissions", "retry", "edges"];

  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("canvas"), panelBody = $("panel-body"), panelEmpty = $("panel-empty");
  var state = { doc: null, selected: null, problems: {}, placed: {}, drag: null, picking: false };

  // --- the document -------------------------------------------------------------------------------
  function nodes() {
    var list = state.doc && Array.isArray(state.doc.nodes) ? state.doc.nodes : [];
    return list.filter(function (n) { return n && typeof n === "object" && typeof n.name === "string"; });
  }
  function find(name) {
    return nodes().filter(function (n) { return n.name === name; })[0] || null;
  }
  function parseSource() {
    var text = source.value, parsed;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return showSourceError("The design JSON has an error (" + error.message + "). " +
        (state.doc ? "The drawing shows the last version that parsed; " : "Fix it to use the drawing; ") +
        "Save sends the text as it is.");
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      return showSourceError("The design JSON must be an object with start_node and nodes.");
    }
    showSourceError("");
    state.doc = parsed;
    if (state.selected && !find(state.selected)) { state.selected = null; }
    return true;
  }
  function showSourceError(message) {
    var box = $("source-error");
    box.textContent = message;
    box.hidden = !message;
    if (message) { $("source").open = true; }
    return false;
  }
  function commit() {
    // Every change lands in the textarea the form submits: it is the one copy of the document.
    source.value = JSON.stringify(state.doc, null, 2);
    var dirty = $("dirty");
    if (dirty) { dirty.hidden = false; }
    render();
  }
  function announce(text) { $("announce").textContent = text; }

  // --- geometry -----------------------------------------------------------------------------------
  function isPoint(p) { return p && typeof p.x === "number" && typeof p.y === "number"; }
  function positionOf(node) {
    if (isPoint(node.position)) { return node.position; }
    if (isPoint(graph.positions && graph.positions[node.name])) { return graph.positions[node.name]; }
    if (!state.placed[node.name]) { state.placed[node.name] = freeSpot(MARGIN, bottom() + ROW - H); }
    return state.placed[node.name];
  }
  function bottom() {
    return nodes().reduce(function (max, n) {
      var p = isPoint(n.position) ? n.position : (graph.positions || {})[n.name] || state.placed[n.name];
      return p ? Math.max(max, p.y + H) : max;
    }, MARGIN - ROW + H);
  }
  function overlaps(x, y) {
    return nodes().some(function (n) {
      var p = isPoint(n.position) ? n.position : (graph.positions || {})[n.name] || state.placed[n.name];
      return p && Math.abs(p.x - x) < W && Math.abs(p.y - y) < H;
    });
  }
  function freeSpot(x, y) {
    for (var tries = 0; tries < 200 && overlaps(x, y); tries++) { y += ROW; }
    return { x: x, y: y };
  }
  function clip(from, to) {
    // Where the segment from the centre `from` towards `to` leaves its box.
    var dx = to.x - from.x, dy = to.y - from.y;
    if (!dx && !dy) { return { x: from.x, y: from.y }; }
    var scale = Math.min(dx ? (W / 2) / Math.abs(dx) : Infinity, dy ? (H / 2) / Math.abs(dy) : Infinity);
    return { x: from.x + dx * scale, y: from.y + dy * scale };
  }
  function centre(node) {
    var p = positionOf(node);
    return { x: p.x + W / 2, y: p.y + H / 2 };
  }

  // --- drawing ------------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var element = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { element.setAttribute(key, attrs[key]); });
    if (text !== undefined) { element.textContent = text; }
    return element;
  }
  function lines() {
    // Mirrors app/web/graph.py's lines(): goto and fallback edges to existing nodes (return edges stay).
    var found = [];
    nodes().forEach(function (node) {
      (Array.isArray(node.edges) ? node.edges : []).forEach(function (edge) {
        if (!edge || typeof edge !== "object" || !find(edge.target_node)) { return; }
        if (edge.type === "goto" || edge.type === "fallback") {
          found.push({ source: node, target: find(edge.target_node), label: String(edge.action || "auto"),
                       fallback: edge.type === "fallback" });
        }
      });
      if (typeof node.fallback_node === "string" && find(node.fallback_node)) {
        found.push({ source: node, target: find(node.fallback_node), label: "fallback", fallback: true });
      }
    });
    return found;
  }
  function short(text, length) {
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }
  function drawEdges(layer) {
    var seen = {};
    lines().forEach(function (line) {
      var key = line.source.name + "→" + line.target.name;
      var nth = seen[key] = (seen[key] || 0) + 1;
      var group = el("g", { "class": "edge" + (line.fallback ? " fallback" : "") });
      var marker = line.fallback ? "url(#arrow-fallback)" : "url(#arrow)";
      var a = centre(line.source), b = centre(line.target), label;
      if (line.source === line.target) {
        var p = positionOf(line.source);
        group.appendChild(el("path", { d: "M" + (p.x + W - 30) + "," + p.y + " C" + (p.x + W - 30) + "," +
          (p.y - 40) + " " + (p.x + W + 20) + "," + (p.y - 10) + " " + (p.x + W) + "," + (p.y + 12),
          "marker-end": marker }));
        label = { x: p.x + W - 10, y: p.y - 30 - 14 * (nth - 1) };
      } else {
        // Two nodes pointing at each other: shift both lines sideways so neither hides the other.
        var back = lines().some(function (other) { return other.source === line.target && other.target === line.source; });
        var len = Math.hypot(b.x - a.x, b.y - a.y) || 1, off = back ? 6 : 0;
        var nx = -(b.y - a.y) / len * off, ny = (b.x - a.x) / len * off;
        var start = clip(a, b), end = clip(b, a);
        group.appendChild(el("line", { x1: start.x + nx, y1: start.y + ny, x2: end.x + nx, y2: end.y + ny,
                                       "marker-end": marker }));
        label = { x: (start.x + end.x) / 2 + nx * 2, y: (start.y + end.y) / 2 + ny * 2 - 4 + 14 * (nth - 1) };
      }
      group.appendChild(el("text", { x: label.x, y: label.y, "text-anchor": "middle" }, short(line.label, 24)));
      layer.appendChild(group);
    });
  }
  function drawNode(layer, node) {
    var p = positionOf(node), selected = node.name === state.selected;
    var classes = ["node", "type-" + String(node.type || "unknown").replace(/[^a-z_]/gi, "")];
    if (selected) { classes.push("selected"); }
    if (state.problems[node.name]) { classes.push("has-problem"); }
    if (readonly) { classes.push("readonly"); }
    if (state.picking && !selected) { classes.push("picking"); }
    var label = node.name + ", " + (node.type || "no type") + (state.problems[node.name] ? ", has problems" : "");
    var group = el("g", { "class": classes.join(" "), transform: "translate(" + p.x + "," + p.y + ")",
                          tabindex: "0", role: "button", "aria-label": label,
                          "aria-pressed": selected ? "true" : "false", "data-name": node.name });
    group.appendChild(el("title", {}, label));
    group.appendChild(el("rect", { width: W, height: H, rx: 8, ry: 8 }));
    group.appendChild(el("text", { x: 12, y: 23, "class": "name" }, short(node.name, 20)));
    var kind = String(node.type || "?") + (node.stage ? " · " + node.stage : "");
    group.appendChild(el("text", { x: 12, y: 42, "class": "kind" }, short(kind, 26)));
    if (state.problems[node.name]) { group.appendChild(el("text", { x: W - 18, y: 22, "class": "problem-mark" }, "!")); }
    layer.appendChild(group);
  }
  function render() {
    var focused = document.activeElement && document.activeElement.getAttribute &&
      document.activeElement.getAttribute("data-name");
    while (canvas.firstChild) { canvas.removeChild(canvas.firstChild); }
    var defs = el("defs");
    [["arrow", "arrow-head"], ["arrow-fallback", "arrow-head fallback"]].forEach(function (pair) {
      var marker = el("marker", { id: pair[0], viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8,
                                  markerHeight: 8, orient: "auto-start-reverse" });
      marker.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", "class": pair[1] }));
      defs.appendChild(marker);
    });
    canvas.appendChild(defs);
    var width = graph.width || 400, height = graph.height || 200;
    nodes().forEach(function (n) {
      var p = positionOf(n);
      width = Math.max(width, p.x + W + MARGIN);
      height = Math.max(height, p.y + H + MARGIN);
    });
    canvas.setAttribute("width", width);
    canvas.setAttribute("height", height);
    canvas.setAttribute("viewBox", "0 0 " + width + " " + height);
    var edgeLayer = el("g"), nodeLayer = el("g");
    canvas.appendChild(edgeLayer);
    canvas.appendChild(nodeLayer);
    drawEdges(edgeLayer);
    nodes().forEach(function (n) { drawNode(nodeLayer, n); });
    if (focused) {
      var again = canvas.querySelector('[data-name="' + CSS.escape(focused) + '"]');
      if (again) { again.focus({ preventScroll: true }); }
    }
  }

  // --- the side panel -----------------------------------------------------------------------------
  function fieldError(key, message) {
    var box = $("node-" + key + "-error");
    box.textContent = message;
    box.hidden = !message;
    $("node-" + key).setAttribute("aria-invalid", message ? "true" : "false");
  }
  function typeHelp(type) {
    var entry = palette.filter(function (p) { return p.type === type; })[0];
    if (!entry) { return "The engine has no node type “" + type + "”."; }
    var text = entry.keys.length ? "Config keys: " + entry.keys.join(", ") : "This type takes no config";
    if (entry.required.length) { text += " (required: " + entry.required.join(", ") + ")"; }
    if (entry.serviceDecides) {
      return text + ". Decided through " + entry.decidedThrough + ", which keeps its rules: its" +
        " edges name the outcomes, and permissions here give nobody a direct action.";
    }
    return text + (entry.takesActions ? ". People act on it: its edges name actions." : ".");
  }
  function fillPanel() {
    var node = find(state.selected);
    panelBody.hidden = !node;
    panelEmpty.hidden = !!node;
    if (!node) { return; }
    $("node-name").value = node.name;
    fieldError("name", "");
    var typeSelect = $("node-type");
    if (!Array.prototype.some.call(typeSelect.options, function (o) { return o.value === node.type; })) {
      typeSelect.appendChild(new Option(String(node.type), String(node.type)));
    }
    typeSelect.value = node.type;
    $("node-type-help").textContent = typeHelp(node.type);
    $("node-stage").value = node.stage || "";
    JSON_FIELDS.forEach(function (key) {
      var value = node[key];
      $("node-" + key).value = value === undefined ? (key === "retry" ? "" : key === "config" ? "{}" : "[]")
        : JSON.stringify(value, null, 2);
      fieldError(key, "");
    });
    var target = $("connect-target");
    if (target) {
      while (target.firstChild) { target.removeChild(target.firstChild); }
      nodes().forEach(function (n) {
        if (n.name !== node.name) { target.appendChild(new Option(n.name, n.name)); }
      });
    }
    [$("node-name"), typeSelect, $("node-stage")].concat(JSON_FIELDS.map(function (k) { return $("node-" + k); }))
      .forEach(function (input) { if (readonly) { input.setAttribute(input.tagName === "SELECT" ? "disabled" : "readonly", ""); } });
  }
  function select(name, focusNode, scroll) {
    state.selected = name;
    state.picking = false;
    render();
    fillPanel();
    if (focusNode && name) {
      // Focus follows the selection so the arrow keys move it; only a new node scrolls into view.
      var g = canvas.querySelector('[data-name="' + CSS.escape(name) + '"]');
      if (g) { g.focus({ preventScroll: !scroll }); }
    }
  }
  function rename(node, wanted) {
    var old = node.name;
    if (!wanted) { return fieldError("name", "A node needs a name."); }
    if (wanted !== old && find(wanted)) { return fieldError("name", "Another node is already called “" + wanted + "”."); }
    fieldError("name", "");
    if (wanted === old) { return; }
    nodes().forEach(function (n) {
      (Array.isArray(n.edges) ? n.edges : []).forEach(function (edge) {
        if (edge && edge.target_node === old) { edge.target_node = wanted; }
      });
      if (n.fallback_node === old) { n.fallback_node = wanted; }
      if (n.type === "parallel" && n.config && n.config.join === old) { n.config.join = wanted; }
    });
    if (state.doc.start_node === old) { state.doc.start_node = wanted; }
    // A node drawn at the server's layout keeps its place under the new name.
    if (graph.positions && graph.positions[old]) { graph.positions[wanted] = graph.positions[old]; }
    if (state.placed[old]) { state.placed[wanted] = state.placed[old]; }
    if (state.problems[old]) { state.problems[wanted] = true; delete state.problems[old]; }
    node.name = wanted;
    state.selected = wanted;
    commit();
    fillPanel();
    announce("Renamed " + old + " to " + wanted + "; edges and the start node follow.");
  }
  function applyJson(key, text) {
    var node = find(state.selected);
    if (!node) { return; }
    if (key === "retry" && !text.trim()) {
      delete node.retry;
      fieldError(key, "");
      return commit();
    }
    var value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return fieldError(key, "Not valid JSON yet (" + error.message + "); the design keeps the last valid value.");
    }
    var wantsList = key === "permissions" || key === "edges";
    if (wantsList !== Array.isArray(value) || !value || typeof value !== "object") {
      return fieldError(key, (wantsList ? "Use a JSON list [ … ]" : "Use a JSON object { … }") +
        "; the design keeps the last valid value.");
    }
    if (key === "edges" && value.some(function (e) { return !e || typeof e !== "object" || Array.isArray(e); })) {
      return fieldError(key, "Each edge is an object { … }; the design keeps the last valid value.");
    }
    fieldError(key, "");
    node[key] = value;
    commit();
  }
  function addEdge(from, to, action) {
    if (!Array.isArray(from.edges)) { from.edges = []; }
    from.edges.push({ action: action || "auto", type: "goto", target_node: to.name });
    commit();
    fillPanel();
    announce("Added an edge from " + from.name + " to " + to.name + " on " + (action || "auto") + ".");
  }

  // --- editing actions ----------------------------------------------------------------------------
  function uniqueName(base) {
    var n = 1;
    while (find(base + "_" + n)) { n++; }
    return base + "_" + n;
  }
  function addNode() {
    if (!state.doc) { return; }
    if (!Array.isArray(state.doc.nodes)) { state.doc.nodes = []; }
    var type = $("palette-type").value, name = uniqueName(type);
    var near = find(state.selected), spot;
    if (near) {
      var p = positionOf(near);
      spot = freeSpot(p.x + COLUMN, p.y);
    } else {
      spot = freeSpot(MARGIN, MARGIN);
    }
    var node = { name: name, type: type, config: {}, edges: [], position: { x: spot.x, y: spot.y } };
    state.doc.nodes.push(node);
    if (type === "start" && !find(state.doc.start_node)) { state.doc.start_node = name; }
    commit();
    select(name, true, true);
    announce("Added node " + name + ". Its settings are in the panel.");
  }
  function deleteNode() {
    var node = find(state.selected);
    if (!node) { return; }
    state.doc.nodes = state.doc.nodes.filter(function (n) { return n !== node; });
    nodes().forEach(function (n) {
      if (Array.isArray(n.edges)) {
        n.edges = n.edges.filter(function (edge) { return !edge || edge.target_node !== node.name; });
      }
      if (n.fallback_node === node.name) { delete n.fallback_node; }
    });
    state.selected = null;
    commit();
    fillPanel();
    announce("Deleted node " + node.name + " and the edges that led to it.");
    if ($("add-node")) { $("add-node").focus(); }
  }
  function moveTo(node, x, y) {
    node.position = { x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)) };
  }

  // --- events -------------------------------------------------------------------------------------
  function svgPoint(event) {
    var point = canvas.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(canvas.getScreenCTM().inverse());
  }
  function nodeFrom(target) {
    var g = target && target.closest ? target.closest("g.node") : null;
    return g ? find(g.getAttribute("data-name")) : null;
  }
  function chooseNode(node) {
    var from = find(state.selected);
    if (state.picking && from && node !== from) {
      state.picking = false;
      addEdge(from, node, ($("connect-action").value || "").trim() || "auto");
      return select(from.name, true);
    }
    select(node.name, true);
  }
  function stopPicking() {
    state.picking = false;
    render();
    announce("Stopped picking a target.");
  }
  canvas.addEventListener("pointerdown", function (event) {
    var node = nodeFrom(event.target);
    if (!node) {
      // A click beside the nodes ends picking (the selection stays), else it clears the selection.
      if (state.picking) { stopPicking(); } else { select(null, false); }
      return;
    }
    event.preventDefault();
    var p = positionOf(node), at = svgPoint(event);
    state.drag = { node: node, dx: at.x - p.x, dy: at.y - p.y, startX: at.x, startY: at.y, moved: false };
  });
  window.addEventListener("pointermove", function (event) {
    var drag = state.drag;
    if (!drag || readonly) { return; }
    var at = svgPoint(event);
    if (!drag.moved && Math.hypot(at.x - drag.startX, at.y - drag.startY) < 4) { return; }
    drag.moved = true;
    moveTo(drag.node, at.x - drag.dx, at.y - drag.dy);
    render();
  });
  window.addEventListener("pointerup", function () {
    var drag = state.drag;
    state.drag = null;
    if (!drag) { return; }
    if (drag.moved) {
      state.selected = drag.node.name;
      commit();
      fillPanel();
      announce("Moved " + drag.node.name + ".");
    } else {
      chooseNode(drag.node);
    }
  });
  canvas.addEventListener("keydown", function (event) {
    var node = nodeFrom(event.target);
    if (!node) { return; }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      chooseNode(node);
      return;
    }
    var steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (!steps || readonly) { return; }
    event.preventDefault();
    var p = positionOf(node), step = event.shiftKey ? 50 : 10;
    moveTo(node, p.x + steps[0] * step, p.y + steps[1] * step);
    state.selected = node.name;
    commit();
    fillPanel();
  });

  $("node-name").addEventListener("change", function () {
    var node = find(state.selected);
    if (node && !readonly) { rename(node, this.value.trim()); }
  });
  $("node-type").addEventListener("change", function () {
    var node = find(state.selected);
    if (!node || readonly) { return; }
    node.type = this.value;
    $("node-type-help").textContent = typeHelp(node.type);
    commit();
  });
  $("node-stage").addEventListener("input", function () {
    var node = find(state.selected);
    if (!node || readonly) { return; }
    if (this.value.trim()) { node.stage = this.value.trim(); } else { delete node.stage; }
    commit();
  });
  JSON_FIELDS.forEach(function (key) {
    $("node-" + key).addEventListener("input", function () {
      if (!readonly) { applyJson(key, this.value); }
    });
  });
  if ($("add-node")) { $("add-node").addEventListener("click", addNode); }
  if ($("delete-node")) { $("delete-node").addEventListener("click", deleteNode); }
  if ($("connect")) {
    $("connect").addEventListener("click", function () {
      var from = find(state.selected), to = find($("connect-target").value);
      if (from && to) { addEdge(from, to, ($("connect-action").value || "").trim() || "auto"); }
    });
  }
  // Escape ends picking wherever focus is: after "pick the target" it is still on that button,
  // where a handler on the drawing alone never heard it.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.picking) { stopPicking(); }
  });
  if ($("pick-target")) {
    $("pick-target").addEventListener("click", function () {
      if (!find(state.selected)) { return; }
      state.picking = true;
      render();
      announce("Click the node to connect to, or press Escape.");
    });
  }

  var typing = null;
  source.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () {
      if (parseSource()) {
        var dirty = $("dirty");
        if (dirty) { dirty.hidden = false; }
        render();
        fillPanel();
      }
    }, 300);
  });

  // --- unsaved changes ------------------------------------------------------------------------------
  // Leaving the page (a link, Make current, closing the tab) would drop edits nobody saved: the
  // browser asks first. The form's own submit (Save) is the way to keep them and never asks.
  var form = $("design-form"), nameInput = $("name");
  var saved = { doc: source.value, name: nameInput ? nameInput.value : "" };
  // The server says when the text shown is not what is stored (a refused save, a no-JS Validate).
  var unsavedAtLoad = root.getAttribute("data-unsaved") === "true";
  var saving = false;
  function hasUnsavedChanges() {
    if (readonly) { return false; }
    return unsavedAtLoad || source.value !== saved.doc || (nameInput !== null && nameInput.value !== saved.name);
  }
  if (form) { form.addEventListener("submit", function () { saving = true; }); }
  // Make current publishes the version as last saved: with edits on screen, say so plainly rather
  // than leave it to the browser's generic "Leave site?".
  var makeCurrent = document.querySelector("form.make-current[data-unsaved-question]");
  if (makeCurrent) {
    makeCurrent.addEventListener("submit", function (event) {
      if (!hasUnsavedChanges()) { return; }
      if (window.confirm(makeCurrent.getAttribute("data-unsaved-question"))) {
        saving = true;  // asked already: no second prompt on the way out
      } else {
        event.preventDefault();
      }
    });
  }
  window.addEventListener("pageshow", function () { saving = false; });  // back to a kept page
  window.addEventListener("beforeunload", function (event) {
    if (saving || !hasUnsavedChanges()) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers want a value to show their prompt
  });
  if (nameInput) {
    nameInput.addEventListener("input", function () {
      var dirty = $("dirty");
      if (dirty && hasUnsavedChanges()) { dirty.hidden = false; }
    });
  }

  function readProblems() {
    var box = $("problems");
    var names = [];
    try { names = JSON.parse(box ? box.getAttribute("data-nodes") || "[]" : "[]"); } catch (error) { names = []; }
    state.problems = {};
    names.forEach(function (name) { state.problems[name] = true; });
    render();
  }
  // The validation partial replaces #problems; whatever element htmx reports, read the new one.
  document.body.addEventListener("htmx:afterSettle", readProblems);

  // --- start --------------------------------------------------------------------------------------
  root.hidden = false;
  if (unsavedAtLoad && $("dirty")) { $("dirty").hidden = false; }
  if (parseSource()) {
    $("source").open = false;  // the drawing leads; the JSON stays one click away
  }
  readProblems();
  fillPanel();
})();
