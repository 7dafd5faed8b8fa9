/* gtcheck report page script.
 *
 * Draws, from the history inlined as compact columns (see results/report/_view.py,
 * page_data): the virtualised timeline (a canvas that draws only the operations inside
 * the visible time window, so it stays fast at 100,000+ operations), the plots (uPlot:
 * latency, throughput, availability, counter value per region, fault periods shaded), and
 * the linearizability counterexample diagrams (SVG, one row per process, Porcupine-style),
 *   one per key that has no linearization.
 * It derives plots from the history; it never judges it: verdicts come from results.json.
 * When everything is drawn it sets window.gtcheckReport = {ready: true, ms, parts}.
 */
(function () {
  "use strict";
  var started = performance.now();
  var D = JSON.parse(document.getElementById("gt-data").textContent);
  var N = D.t0.length;
  var parsedMs = performance.now() - started;
  var TYPE_NAMES = ["ok", "fail", "info", "never completed"];
  var REGION_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                       "#8c564b", "#e377c2"];
  var F_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#bcbd22"];
  var parts = {};

  function regionColor(region) {
    var i = D.regions.indexOf(region);
    return i < 0 ? "#555" : REGION_COLORS[i % REGION_COLORS.length];
  }

  // --- columns as typed arrays ---------------------------------------------------
  var T0 = new Float64Array(N), T1 = new Float64Array(N), LANE = new Int32Array(N);
  var TY = new Int8Array(N), F = new Int16Array(N);
  var maxDur = 0, openOps = [];
  for (var n = 0; n < N; n++) {
    T0[n] = D.t0[n];
    LANE[n] = D.lane[n];
    TY[n] = D.ty[n];
    F[n] = D.f[n];
    if (D.d[n] < 0) { T1[n] = D.end; openOps.push(n); }
    else { T1[n] = D.t0[n] + D.d[n]; if (D.d[n] > maxDur) maxDur = D.d[n]; }
  }
  var byIndex = new Map();
  for (n = 0; n < N; n++) { byIndex.set(D.i[n], n); if (D.c[n] >= 0) byIndex.set(D.c[n], n); }
  // Operations named by a violation, and by an anomaly the mode allows (outlined in a calm
  // style of their own, which the reader can switch off: they are not failures).
  function positions(indices) {
    var out = new Set();
    (indices || []).forEach(function (i) { var p = byIndex.get(i); if (p !== undefined) out.add(p); });
    return out;
  }
  var anomalous = positions(D.anomalyOps), allowed = positions(D.allowedOps);
  allowed.forEach(function (n) { if (anomalous.has(n)) allowed.delete(n); });
  var showAllowed = true;
  // A request a working region refused on its merits (ConditionalCheckFailed,
  // ReplicatedWriteConflict): answered, not failed, so drawn as its own kind.
  var ANSWERED = new Set(D.answered || []);
  function answeredNo(n) { return TY[n] === 1 && ANSWERED.has(D.er[n]); }
  var regionOfLane = D.lanes.map(function (l) { return l.region; });
  parts.data = {ms: Math.round(performance.now() - started), parseMs: Math.round(parsedMs)};
  var nemesisLane = regionOfLane.indexOf("nemesis");

  function fmtS(us) { return (us / 1e6).toFixed(us < 1e7 ? 3 : 2) + " s"; }

  function describeOp(n) {
    var lines = [
      "operation #" + D.i[n] + (D.c[n] >= 0 ? " (completion #" + D.c[n] + ")" : ""),
      "process   " + (D.p[n] < 0 ? "nemesis" : D.p[n]) + "   region " + regionOfLane[LANE[n]],
      "f         " + D.fs[F[n]] + (D.keys[D.k[n]] ? "   key " + D.keys[D.k[n]] : "") +
        (D.cs[n] === 1 ? "   (SC)" : D.cs[n] === 0 ? "   (EC)" : ""),
      "value     " + (D.v[n] || "-"),
      "outcome   " + (answeredNo(n) ? "answered no (not a failure)" : TYPE_NAMES[TY[n]]) +
        (D.er[n] >= 0 ? "   error " + D.errors[D.er[n]] : ""),
      "start     " + fmtS(T0[n]) + "   end " + (D.d[n] >= 0 ? fmtS(T1[n]) : "-") +
        (D.d[n] >= 0 ? "   latency " + (D.d[n] / 1000).toFixed(2) + " ms" : "")
    ];
    if (anomalous.has(n)) lines.push("involved in a reported violation");
    if (allowed.has(n)) lines.push("involved in an anomaly the mode allows (not a failure)");
    return lines.join("\n");
  }

  // One colour per fault type (the same in the timeline, the plots and the legends), so a
  // reader tells an isolated region from a cut link or a skewed clock at a glance.
  // Every fault the nemeses begin has its own colour (results/plots.py uses the same), far
  // enough apart to tell slow from pause.
  var FAULT_RGB = {"isolate": "229, 57, 53", "cut": "142, 36, 170", "cut-oneway": "94, 53, 177",
                   "delay": "0, 137, 123", "pause-replication": "255, 143, 0",
                   "stop": "55, 71, 79", "skew-clock": "3, 155, 229",
                   "slow": "121, 85, 72", "pause": "216, 27, 96",
                   "fis-pause-replication": "251, 192, 45", "client-partition": "67, 160, 71",
                   "client-latency": "0, 172, 193", "client-timeout": "158, 157, 36"};
  function faultRgb(f) { return FAULT_RGB[f] || "255, 152, 0"; }
  function shadeFaults(ctx, xOf, top, height, left, right, laneBand, labels) {
    D.faults.forEach(function (fp, i) {
      var x0 = Math.max(left, xOf(fp.s)), x1 = Math.min(right, xOf(fp.e === null ? D.end : fp.e));
      if (x1 <= x0) return;
      var rgb = faultRgb(fp.f);
      ctx.fillStyle = "rgba(" + rgb + ", 0.08)";
      ctx.fillRect(x0, top, x1 - x0, height);
      if (laneBand && fp.region) {
        var band = laneBand(fp.region);
        if (band) { ctx.fillStyle = "rgba(" + rgb + ", 0.16)"; ctx.fillRect(x0, band[0], x1 - x0, band[1]); }
      }
      ctx.fillStyle = "rgba(" + rgb + ", 0.9)";   // a solid bar marks the period's extent
      ctx.fillRect(x0, top, x1 - x0, 3);
      if (labels && x1 - x0 > 40) {   // the fault's name, where there is room for it
        ctx.save();
        ctx.font = "10px system-ui, sans-serif";
        ctx.textBaseline = "top";
        var text = fp.label, room = x1 - x0 - 4;
        while (text.length > 3 && ctx.measureText(text).width > room) text = text.slice(0, -2);
        if (text !== fp.label) text = text.slice(0, -1) + "…";
        ctx.fillStyle = "rgba(" + rgb + ", 1)";
        ctx.fillText(text, x0 + 2, top + 4 + (i % 2) * 11);
        ctx.restore();
      }
    });
  }
  function faultLegend(el) {
    if (!el) return;
    var seen = [];
    D.faults.forEach(function (fp) { if (seen.indexOf(fp.f) < 0) seen.push(fp.f); });
    if (!seen.length) { el.textContent = "No fault was in force during this run."; return; }
    el.textContent = "Fault periods: ";
    seen.forEach(function (f) {
      var sw = document.createElement("span");
      sw.className = "sw";
      sw.style.background = "rgba(" + faultRgb(f) + ", 0.6)";
      el.appendChild(sw);
      el.appendChild(document.createTextNode(" " + f + "  "));
    });
  }
  var ANSWERED_COLOR = "#546e7a", ALLOWED_COLOR = "#90a4ae";
  function timelineLegend(el) {
    if (!el) return;
    function item(color, text, outline) {
      var sw = document.createElement("span");
      sw.className = "sw";
      if (outline) sw.style.border = "2px solid " + color; else sw.style.background = color;
      el.appendChild(sw);
      el.appendChild(document.createTextNode(" " + text + "  "));
    }
    el.textContent = "Operations: ";
    var clientFs = new Set();
    for (var n = 0; n < N; n++) if (LANE[n] !== nemesisLane) clientFs.add(F[n]);
    D.fs.forEach(function (f, i) { if (clientFs.has(i)) item(F_COLORS[i % F_COLORS.length], f + " (ok)"); });
    item(ANSWERED_COLOR, "answered no (condition failed / conflict: not a failure)");
    item("#e57373", "failed"); item("#ffb300", "unknown (info)");
    item("#b0bec5", "never completed"); item("#e65100", "nemesis");
    if (anomalous.size) item("#d500f9", "in a reported violation", true);
    if (allowed.size) item(ALLOWED_COLOR, "in an anomaly the mode allows (not a failure)", true);
    item("#000", "selected", true);
  }

  // --- timeline --------------------------------------------------------------------
  function Timeline() {
    var canvas = document.getElementById("tl-canvas");
    var wrap = document.getElementById("tl-wrap");
    var tip = document.getElementById("tl-tip");
    var detail = document.getElementById("tl-detail");
    var GUTTER = 150, AXIS = 22;
    // Fault names get a band of their own between the axis and the first row, so they are
    // never drawn over operations.
    var BAND = D.faults.length ? 26 : 0;
    var lanes = D.lanes.length;
    var rowH = Math.max(3, Math.min(16, Math.floor(600 / Math.max(1, lanes))));
    var height = AXIS + BAND + lanes * rowH + 4;
    var dpr = window.devicePixelRatio || 1;
    var width = 0;
    var full = [0, Math.max(D.end, 1)];
    var view = full.slice();
    var selected = -1;
    var keyOnly = -1;   // a key index: draw only that key's operations (and the nemesis)
    var ctx = canvas.getContext("2d");
    var pending = false;

    function resize() {
      width = Math.max(400, wrap.clientWidth);
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = height + "px";
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      draw();
    }
    function xOf(t) { return GUTTER + (t - view[0]) / (view[1] - view[0]) * (width - GUTTER); }
    function tOf(x) { return view[0] + (x - GUTTER) / (width - GUTTER) * (view[1] - view[0]); }
    function laneY(l) { return AXIS + BAND + l * rowH; }
    function laneBand(region) {
      var first = -1, last = -1;
      for (var l = 0; l < lanes; l++) if (regionOfLane[l] === region) { if (first < 0) first = l; last = l; }
      return first < 0 ? null : [laneY(first), (last - first + 1) * rowH];
    }
    function lowerBound(t) {  // first op whose start >= t (ops are sorted by start)
      var lo = 0, hi = N;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (T0[mid] < t) lo = mid + 1; else hi = mid; }
      return lo;
    }
    // Colours as small codes (for the dense mode's pixel grid); a higher code wins a pixel,
    // so failures and crashes stay visible however far out one zooms.
    var PALETTE = F_COLORS.concat(["#b0bec5", ANSWERED_COLOR, "#ffb300", "#e57373", "#e65100"]);
    var OPEN = F_COLORS.length, ANSWERED_NO = OPEN + 1, INFO = OPEN + 2, FAILED = OPEN + 3,
        NEMESIS = OPEN + 4;
    function codeOf(n) {
      if (LANE[n] === nemesisLane) return NEMESIS;
      if (answeredNo(n)) return ANSWERED_NO;
      if (TY[n] === 1) return FAILED;
      if (TY[n] === 2) return INFO;
      if (TY[n] === 3) return OPEN;
      return F[n] % F_COLORS.length;
    }
    function draw() {
      pending = false;
      ctx.clearRect(0, 0, width, height);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, width, height);
      shadeFaults(ctx, xOf, AXIS, height - AXIS, GUTTER, width, laneBand, true);
      // region separators and labels
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      var prev = null;
      if (rowH >= 10) {   // which processes ran on each row
        ctx.fillStyle = "#78909c";
        for (var pl = 0; pl < lanes; pl++) {
          var procs = D.lanes[pl].procs;
          var text = procs[0] === "nemesis" ? "" : "p " + procs.slice(0, 3).join(",") + (procs.length > 3 ? ",…" : "");
          ctx.fillText(text, 72, laneY(pl) + rowH / 2);
        }
      }
      for (var l = 0; l < lanes; l++) {
        var r = regionOfLane[l];
        if (r !== prev) {
          ctx.fillStyle = "#90a4ae";
          ctx.fillRect(0, laneY(l), width, 1);
          ctx.fillStyle = r === "nemesis" ? "#e65100" : regionColor(r);
          ctx.fillText(r, 4, laneY(l) + Math.max(rowH, 12) / 2);
          prev = r;
        }
      }
      // operations inside the window, batched into one path per colour
      var t0 = view[0], t1 = view[1];
      var from = lowerBound(t0 - maxDur), to = lowerBound(t1 + 1);
      var paths = [], drawn = 0;
      var h = Math.max(2, rowH - 2);
      var W = Math.max(1, Math.ceil(width - GUTTER));
      // Dense mode: more operations in the window than pixels to show them. Each row gets
      // a strip of pixel columns; an operation marks the columns it covers, and runs of
      // equal columns become one rectangle, so the work drawn is bounded by rows x width
      // whatever the number of operations.
      var dense = (to - from) > 2 * W;
      var grid = dense ? new Uint8Array(lanes * W) : null;   // 0 = empty, else code + 1
      function pathOf(code) { return paths[code] || (paths[code] = new Path2D()); }
      function add(n) {
        if (T1[n] < t0 || T0[n] > t1) return;
        if (keyOnly >= 0 && D.k[n] !== keyOnly && LANE[n] !== nemesisLane) return;
        var x0 = Math.max(GUTTER, xOf(T0[n])), x1 = Math.min(width, xOf(T1[n]));
        var code = codeOf(n);
        drawn++;
        if (!dense) { pathOf(code).rect(x0, laneY(LANE[n]) + 1, Math.max(1, x1 - x0), h); return; }
        var row = LANE[n] * W, a = Math.floor(x0 - GUTTER), b = Math.max(a, Math.ceil(x1 - GUTTER) - 1);
        if (b >= W) b = W - 1;
        for (var x = a; x <= b; x++) if (grid[row + x] < code + 1) grid[row + x] = code + 1;
      }
      for (var n = from; n < to; n++) add(n);
      openOps.forEach(function (n) { if (n < from || n >= to) add(n); });
      if (dense) {
        for (var gl = 0; gl < lanes; gl++) {
          var base = gl * W, y = laneY(gl) + 1;
          for (var gx = 0; gx < W;) {
            var c = grid[base + gx], end = gx + 1;
            while (end < W && grid[base + end] === c) end++;
            if (c) pathOf(c - 1).rect(GUTTER + gx, y, end - gx, h);
            gx = end;
          }
        }
      }
      paths.forEach(function (p, code) { if (p) { ctx.fillStyle = PALETTE[code]; ctx.fill(p); } });
      // anomalies and the selection on top: violations in a loud outline, the anomalies
      // the mode allows in a thin dashed grey one (or none, when switched off)
      function outline(set, color, lineWidth, dash) {
        ctx.lineWidth = lineWidth; ctx.strokeStyle = color; ctx.setLineDash(dash);
        set.forEach(function (n) {
          if (T1[n] < t0 || T0[n] > t1) return;
          if (keyOnly >= 0 && D.k[n] !== keyOnly) return;
          var x0 = Math.max(GUTTER, xOf(T0[n])), x1 = Math.min(width, xOf(T1[n]));
          ctx.strokeRect(x0 - 1, laneY(LANE[n]), Math.max(2, x1 - x0) + 2, rowH);
        });
        ctx.setLineDash([]);
      }
      if (showAllowed) outline(allowed, ALLOWED_COLOR, 1, [3, 2]);
      outline(anomalous, "#d500f9", 1.5, []);
      canvas.dataset.violationOutlines = anomalous.size;
      canvas.dataset.allowedOutlines = showAllowed ? allowed.size : 0;
      if (selected >= 0) {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
        var sx0 = Math.max(GUTTER, xOf(T0[selected])), sx1 = Math.min(width, xOf(T1[selected]));
        ctx.strokeRect(sx0 - 2, laneY(LANE[selected]) - 1, Math.max(3, sx1 - sx0) + 4, rowH + 2);
      }
      // gutter and time axis
      ctx.fillStyle = "rgba(255,255,255,0.96)";
      ctx.fillRect(0, 0, width, AXIS);
      ctx.fillStyle = "#263238";
      var step = niceStep((t1 - t0) / 8);
      ctx.textBaseline = "top";
      for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
        var x = xOf(t);
        ctx.fillRect(x, AXIS - 5, 1, 5);
        ctx.fillText((t / 1e6).toFixed(step < 1e4 ? 4 : step < 1e6 ? 2 : 0) + " s", x + 2, 3);
      }
      ctx.fillRect(GUTTER, AXIS - 1, width - GUTTER, 1);
      canvas.dataset.faultBand = AXIS + "," + (AXIS + BAND);
      canvas.dataset.firstRow = laneY(0);
      document.getElementById("tl-window").textContent =
        "window " + fmtS(t0) + " – " + fmtS(t1) + " · " + drawn + " operations drawn";
      canvas.dataset.drawn = drawn;
    }
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }
    function setView(a, b) {
      var span = Math.max(b - a, 10);   // 10 µs: the finest zoom
      var total = full[1] - full[0];
      if (span >= total) { view = full.slice(); schedule(); return; }
      if (a < full[0]) { a = full[0]; } if (a + span > full[1]) { a = full[1] - span; }
      view = [a, a + span];
      schedule();
    }
    function zoom(factor, atX) {
      var c = atX === undefined ? (view[0] + view[1]) / 2 : tOf(atX);
      setView(c - (c - view[0]) * factor, c + (view[1] - c) * factor);
    }
    function pick(x, y) {
      var lane = Math.floor((y - AXIS - BAND) / rowH);
      if (lane < 0 || lane >= lanes || x < GUTTER) return -1;
      var t = tOf(x), slack = 3 * (view[1] - view[0]) / (width - GUTTER);
      var from = lowerBound(t - maxDur - slack), to = lowerBound(t + slack + 1), best = -1;
      for (var n = from; n < to; n++)
        if (LANE[n] === lane && T0[n] - slack <= t && T1[n] + slack >= t) best = n;
      openOps.forEach(function (n) { if (best < 0 && LANE[n] === lane && T0[n] <= t) best = n; });
      return best;
    }
    function select(n) {
      selected = n;
      detail.textContent = n >= 0 ? describeOp(n) : "Click an operation to see it here.";
      schedule();
    }
    this.focus = function (index) {
      var n = byIndex.get(index);
      if (n === undefined) { detail.textContent = "No operation #" + index + " in this history."; return; }
      var span = Math.max((T1[n] - T0[n]) * 8, 50000);
      var mid = (T0[n] + T1[n]) / 2;
      setView(mid - span / 2, mid + span / 2);
      select(n);
      wrap.scrollIntoView({block: "center"});
    };

    var keyNote = document.getElementById("tl-key");
    this.showKey = function (key) {
      keyOnly = D.keys.indexOf(String(key));
      if (keyNote) {
        keyNote.hidden = keyOnly < 0;
        keyNote.firstChild.textContent = "Showing only key " + key + "'s operations. ";
      }
      setView(full[0], full[1]);
      schedule();
      wrap.scrollIntoView({block: "center"});
    };
    var allowedToggle = document.getElementById("tl-allowed");
    if (allowedToggle) {
      allowedToggle.parentNode.hidden = allowed.size === 0;
      allowedToggle.addEventListener("change", function () { showAllowed = allowedToggle.checked; schedule(); });
    }
    if (keyNote) keyNote.querySelector("button").onclick = function () {
      keyOnly = -1; keyNote.hidden = true; schedule();
    };
    timelineLegend(document.getElementById("tl-legend"));
    faultLegend(document.getElementById("tl-faults"));
    faultLegend(document.getElementById("plot-faults"));

    var drag = null;
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var rect = canvas.getBoundingClientRect();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, e.clientX - rect.left);
    }, {passive: false});
    canvas.addEventListener("mousedown", function (e) {
      var rect = canvas.getBoundingClientRect();
      drag = {x: e.clientX - rect.left, y: e.clientY - rect.top, view: view.slice(), moved: false, shift: e.shiftKey};
    });
    window.addEventListener("mousemove", function (e) {
      var rect = canvas.getBoundingClientRect();
      var x = e.clientX - rect.left, y = e.clientY - rect.top;
      if (drag) {
        if (Math.abs(x - drag.x) > 3) drag.moved = true;
        if (drag.moved && !drag.shift) {
          var dt = (x - drag.x) / (width - GUTTER) * (drag.view[1] - drag.view[0]);
          setView(drag.view[0] - dt, drag.view[1] - dt);
        }
        return;
      }
      if (x < 0 || y < 0 || x > width || y > height) { tip.hidden = true; return; }
      var n = pick(x, y);
      if (n < 0) { tip.hidden = true; return; }
      tip.textContent = describeOp(n);
      tip.style.left = Math.min(x + 14, width - 330) + "px";
      tip.style.top = (y + 14) + "px";
      tip.hidden = false;
    });
    window.addEventListener("mouseup", function (e) {
      if (!drag) return;
      var rect = canvas.getBoundingClientRect();
      var x = e.clientX - rect.left, y = e.clientY - rect.top;
      if (!drag.moved) select(pick(x, y));
      else if (drag.shift) {
        var a = tOf(Math.min(x, drag.x)), b = tOf(Math.max(x, drag.x));
        setView(a, b);
      }
      drag = null;
    });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    document.getElementById("tl-in").onclick = function () { zoom(0.5); };
    document.getElementById("tl-out").onclick = function () { zoom(2); };
    document.getElementById("tl-reset").onclick = function () { setView(full[0], full[1]); };
    var self = this;
    document.getElementById("tl-goto").addEventListener("change", function (e) {
      var i = parseInt(e.target.value, 10);
      if (!isNaN(i)) self.focus(i);
    });
    window.addEventListener("resize", resize);
    resize();
    draw();
  }

  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }

  // --- plots (uPlot) ---------------------------------------------------------------
  // µs per bucket: about 120 buckets over the run, but wide enough that a region has
  // some ten operations in a bucket on average (else rates and shares are mostly noise)
  var BUCKET = niceStep(Math.max(Math.max(D.end, 1) / 120,
                                 10 * Math.max(D.end, 1) * Math.max(1, D.regions.length) / Math.max(1, N)));
  var NB = Math.max(1, Math.ceil((D.end + 1) / BUCKET));
  var bucketX = new Float64Array(NB);
  for (var b = 0; b < NB; b++) bucketX[b] = (b + 0.5) * BUCKET / 1e6;

  function faultShading() {
    return {hooks: {drawClear: [function (u) {
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
      var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
      shadeFaults(ctx, function (t) { return u.valToPos(t / 1e6, "x", true); }, top, h, left, right, null);
    }]}};
  }
  function chart(container, title, data, series, opts) {
    var box = document.createElement("div");
    box.className = "plot";
    var h = document.createElement("div");
    h.className = "plot-title";
    h.textContent = title;
    box.appendChild(h);
    container.appendChild(box);
    var o = Object.assign({
      width: Math.max(600, container.clientWidth - 10), height: 220,
      plugins: [faultShading()],
      scales: {x: {time: false}},
      axes: [{label: "seconds since the run started"}, {label: opts && opts.yLabel || ""}],
      series: [{label: "t (s)"}].concat(series),
      legend: {live: false}   // names only: no "--" placeholders until the cursor moves
    }, opts || {});
    delete o.yLabel;
    return new uPlot(o, data, box);
  }
  // Scatter as one path of small squares per series (uPlot's own points are arcs, each
  // stroked: far too slow for 30,000+ points per chart).
  // A point that lands on a pixel already drawn is skipped, so the path holds at most one
  // square per pixel of the plot however many points there are.
  function scatterPaths(u, si, i0, i1) {
    var xs = u.data[0], ys = u.data[si], sc = u.series[si].scale;
    var size = 2.5 * (window.devicePixelRatio || 1), half = size / 2, path = new Path2D();
    var xMin = u.scales.x.min, xMax = u.scales.x.max, yMin = u.scales[sc].min, yMax = u.scales[sc].max;
    var left = u.bbox.left, top = u.bbox.top, w = Math.ceil(u.bbox.width) + 1;
    var seen = new Uint8Array(w * (Math.ceil(u.bbox.height) + 1));
    for (var i = i0; i <= i1; i++) {
      var y = ys[i], x = xs[i];
      if (y == null || x < xMin || x > xMax || y < yMin || y > yMax) continue;
      var px = u.valToPos(x, "x", true), py = u.valToPos(y, sc, true);
      var cell = Math.floor(py - top) * w + Math.floor(px - left);
      if (seen[cell]) continue;
      seen[cell] = 1;
      path.rect(px - half, py - half, size, size);
    }
    return {stroke: null, fill: path, clip: null, flags: 0};
  }
  function pointsSeries(label, color) {
    return {label: label, stroke: color, fill: color, width: 0, paths: scatterPaths,
            points: {show: false}};
  }
  function clientOps(filter) {
    var out = [];
    for (var n = 0; n < N; n++) if (LANE[n] !== nemesisLane && filter(n)) out.push(n);
    return out;
  }
  function quantile(sorted, q) {
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
  }

  function latencyPlots() {
    var el = document.getElementById("plot-latency");
    D.regions.forEach(function (region) {
      var ops = clientOps(function (n) { return TY[n] === 0 && regionOfLane[LANE[n]] === region; });
      if (!ops.length) return;
      var fsHere = Array.from(new Set(ops.map(function (n) { return F[n]; }))).sort();
      var buckets = [];
      for (var b = 0; b < NB; b++) buckets.push([]);
      ops.forEach(function (n) { buckets[Math.min(NB - 1, Math.floor(T0[n] / BUCKET))].push(D.d[n] / 1000); });
      // one x axis (every operation's start); the quantile lines are steps per bucket and
      // break where a bucket is empty
      var q50 = [], q99 = [];
      buckets.forEach(function (v) {
        v.sort(function (a, c) { return a - c; });
        q50.push(quantile(v, 0.5)); q99.push(quantile(v, 0.99));
      });
      var xs = [], cols = fsHere.map(function () { return []; }), p50 = [], p99 = [];
      ops.forEach(function (n) {
        var b = Math.min(NB - 1, Math.floor(T0[n] / BUCKET));
        xs.push(T0[n] / 1e6);
        var fi = fsHere.indexOf(F[n]);
        cols.forEach(function (c, j) { c.push(j === fi ? Math.max(0.01, D.d[n] / 1000) : null); });
        p50.push(q50[b]); p99.push(q99[b]);
      });
      var series = fsHere.map(function (f, j) { return pointsSeries(D.fs[f] + " latency (ms)", F_COLORS[f % F_COLORS.length]); });
      series.push({label: "p50 (ms)", stroke: "#37474f", width: 2});
      series.push({label: "p99 (ms)", stroke: "#c62828", width: 2, dash: [6, 3]});
      chart(el, region, [xs].concat(cols, [p50, p99]), series,
            {yLabel: "latency (ms, log)", scales: {x: {time: false}, y: {distr: 3}}});
    });
  }

  function bucketsPerRegion(filter) {
    var per = {};
    D.regions.forEach(function (r) { per[r] = new Float64Array(NB); });
    for (var n = 0; n < N; n++) {
      if (LANE[n] === nemesisLane || !filter(n)) continue;
      var r = regionOfLane[LANE[n]];
      if (per[r]) per[r][Math.min(NB - 1, Math.floor(T1[n] / BUCKET))] += 1;
    }
    return per;
  }

  // Served: ok, or answered on the request's merits (a failed condition, a lost MRSC
  // conflict): the availability checker's own definition, so the plot shows what is judged.
  function served(n) { return TY[n] === 0 || (TY[n] === 1 && ANSWERED.has(D.er[n])); }

  function throughputPlot() {
    var el = document.getElementById("plot-throughput");
    var ok = bucketsPerRegion(served);
    var bad = bucketsPerRegion(function (n) { return (TY[n] === 1 || TY[n] === 2) && !served(n); });
    var secs = BUCKET / 1e6, data = [Array.from(bucketX)], series = [];
    D.regions.forEach(function (r) {
      data.push(Array.from(ok[r], function (v) { return v / secs; }));
      series.push({label: r + " served/s", stroke: regionColor(r), width: 2});
    });
    D.regions.forEach(function (r) {
      data.push(Array.from(bad[r], function (v) { return v / secs; }));
      series.push({label: r + " failed or unknown/s", stroke: regionColor(r), width: 1, dash: [4, 3]});
    });
    chart(el, "Throughput per region", data, series, {yLabel: "operations / s"});
  }

  function availabilityPlot() {
    var el = document.getElementById("plot-availability");
    var ok = bucketsPerRegion(served);
    var all = bucketsPerRegion(function (n) { return TY[n] <= 2; });
    var data = [Array.from(bucketX)], series = [];
    D.regions.forEach(function (r) {
      data.push(Array.from(ok[r], function (v, b) { return all[r][b] ? v / all[r][b] : null; }));
      series.push({label: r, stroke: regionColor(r), width: 2, spanGaps: true});
    });
    chart(el, "Availability per region", data, series,
          {yLabel: "share served", scales: {x: {time: false}, y: {range: [0, 1.05]}}});
  }

  function counterPlot() {
    if (!D.counter) return false;
    var section = document.getElementById("counter-section");
    var el = document.getElementById("plot-counter");
    var readF = D.fs.indexOf("read"), addF = D.fs.indexOf("add");
    var readsPerKey = {};
    for (var n = 0; n < N; n++) if (F[n] === readF && TY[n] === 0) readsPerKey[D.k[n]] = (readsPerKey[D.k[n]] || 0) + 1;
    var keys = Object.keys(readsPerKey).map(Number).sort(function (a, b) { return readsPerKey[b] - readsPerKey[a]; });
    if (!keys.length) return false;
    section.hidden = false;
    var label = document.createElement("label");
    label.textContent = "Key ";
    var select = document.createElement("select");
    keys.forEach(function (k) { var o = document.createElement("option"); o.value = k; o.textContent = D.keys[k]; select.appendChild(o); });
    label.appendChild(select);
    el.appendChild(label);
    var holder = document.createElement("div");
    el.appendChild(holder);
    function drawKey(key) {
      holder.textContent = "";
      var events = [];
      for (var n = 0; n < N; n++) {
        if (D.k[n] !== key || LANE[n] === nemesisLane || TY[n] !== 0) continue;
        if (F[n] === readF && D.v[n] !== "" && !isNaN(Number(D.v[n]))) events.push([T1[n], 0, n]);
        else if (F[n] === addF) events.push([T1[n], 1, n]);
      }
      events.sort(function (a, b) { return a[0] - b[0]; });
      var xs = [], cols = D.regions.map(function () { return []; }), acked = [], sum = 0;
      events.forEach(function (e) {
        var n = e[2];
        xs.push(e[0] / 1e6);
        if (e[1] === 1) sum += Number(D.v[n]) || 1;
        acked.push(sum);
        var ri = D.regions.indexOf(regionOfLane[LANE[n]]);
        cols.forEach(function (c, j) { c.push(e[1] === 0 && j === ri ? Number(D.v[n]) : null); });
      });
      var series = D.regions.map(function (r) {
        return {label: r + " read value", stroke: regionColor(r), width: 2, spanGaps: true,
                paths: uPlot.paths.stepped({align: 1}), points: {show: true, size: 4}};
      });
      series.push({label: "increments acknowledged", stroke: "#455a64", width: 1.5, dash: [6, 4]});
      chart(holder, "Counter " + D.keys[key] + ": value read per region", [xs].concat(cols, [acked]), series,
            {yLabel: "counter value"});
    }
    select.addEventListener("change", function () { drawKey(Number(select.value)); });
    drawKey(keys[0]);
    return true;
  }

  // --- counterexample (SVG) --------------------------------------------------------
  function counterexampleDiagrams() {
    var drawn = 0;
    (D.cxs || []).forEach(function (cx) {
      var el = cx && document.querySelector('.cx-diagram[data-cx="' + cx.n + '"]');
      if (el && counterexampleDiagram(cx, el)) drawn++;
    });
    return drawn > 0;
  }
  function counterexampleDiagram(cx, el) {
    var NS = "http://www.w3.org/2000/svg";
    var procs = Array.from(new Set(cx.ops.map(function (n) { return D.p[n]; }))).sort(function (a, b) { return a - b; });
    var t0 = Infinity, t1 = -Infinity;
    cx.ops.forEach(function (n) { t0 = Math.min(t0, T0[n]); t1 = Math.max(t1, T1[n]); });
    var pad = (t1 - t0) * 0.03 + 1;
    t0 -= pad; t1 += pad;
    // BOX high boxes in ROW high rows: the space under a box holds the tag of a box too
    // narrow to hold it
    var W = Math.max(900, el.clientWidth - 4), LEFT = 170, ROW = 38, BOX = 22, TOP = 28;
    var H = TOP + procs.length * ROW + 10;
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("width", W); svg.setAttribute("height", H);
    function x(t) { return LEFT + (t - t0) / (t1 - t0) * (W - LEFT - 10); }
    function node(name, attrs, text) {
      var e = document.createElementNS(NS, name);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    }
    var step = niceStep((t1 - t0) / 8);
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      node("line", {x1: x(t), x2: x(t), y1: TOP - 6, y2: H, stroke: "#eceff1"});
      node("text", {x: x(t) + 2, y: 14, fill: "#546e7a"}, (t / 1e6).toFixed(3) + " s");
    }
    procs.forEach(function (p, row) {
      var sample = cx.ops.find(function (n) { return D.p[n] === p; });
      node("text", {x: 4, y: TOP + row * ROW + BOX / 2 + 8, fill: regionColor(regionOfLane[LANE[sample]])},
           "process " + p + " · " + regionOfLane[LANE[sample]]);
    });
    var concurrent = new Set(cx.concurrent);
    // Each operation gets a tag (A, B, ... in start order), shown in its box and in the
    // table under the diagram, which gives every operation's full value and outcome: the
    // boxes are too narrow to hold them (Knossos's linear.svg shows each op's value).
    var byStart = cx.ops.slice().sort(function (a, b) { return T0[a] - T0[b] || a - b; });
    var tagOf = {};
    byStart.forEach(function (n, k) { tagOf[n] = opTag(k); });
    function opText(n) {
      return D.fs[F[n]] + " " + (D.v[n] || "nil") + (TY[n] === 2 || TY[n] === 3 ? " (info)" : "");
    }
    var under = document.createElementNS(NS, "g");
    under.setAttribute("class", "cx-tags");
    cx.ops.forEach(function (n) {
      var row = procs.indexOf(D.p[n]);
      var cls = n === cx.failing ? "failing" : cx.prefix[n] ? "prefix" : concurrent.has(n) ? "concurrent" : "other";
      var fill = {failing: "#e53935", prefix: "#8fd19e", concurrent: "#ffb74d", other: "#cfd8dc"}[cls];
      var y = TOP + row * ROW + 4, x0 = x(T0[n]), x1 = x(T1[n]);
      var room = Math.floor((Math.max(3, x1 - x0) - 6) / 6.2);
      if (room < tagOf[n].length) {  // too narrow for its tag: the tag goes under the box
        var tag = node("text", {x: (x0 + x1) / 2, y: y + BOX + 10, fill: "#102027",
                                "text-anchor": "middle", "pointer-events": "none",
                                "font-size": "10px", "class": "cx-tag"}, tagOf[n]);
        under.appendChild(tag);   // in a group of their own, not among the boxes
      }
      var r = node("rect", {x: x0, y: y, width: Math.max(3, x1 - x0), height: BOX, rx: 3, fill: fill,
                            stroke: cls === "failing" ? "#7f0000" : "#607d8b", "stroke-width": cls === "failing" ? 2 : 0.6,
                            "class": "cx-op " + cls, "data-op": D.i[n], cursor: "pointer"});
      var label = tagOf[n] + " " + opText(n) + (cx.prefix[n] ? "  [" + cx.prefix[n] + "]" : "");
      // The label stays inside its box (cut with an ellipsis; the full text is in the
      // tooltip), so neighbouring operations' labels never overlap.
      if (room >= tagOf[n].length) {
        if (label.length > room) label = room <= tagOf[n].length + 1 ? tagOf[n] : label.slice(0, room - 1) + "…";
        node("text", {x: x0 + 3, y: y + BOX / 2 + 4, fill: "#102027", "pointer-events": "none",
                      "font-size": "11px", "class": "cx-label"}, label);
      }
      var title = document.createElementNS(NS, "title");
      title.textContent = describeOp(n);
      r.appendChild(title);
      r.addEventListener("click", function () { if (timeline) timeline.focus(D.i[n]); });
    });
    svg.appendChild(under);
    el.appendChild(svg);
    el.appendChild(counterexampleTable(cx, byStart, tagOf, concurrent));
    return true;
  }
  function opTag(k) {   // 0 -> A, 25 -> Z, 26 -> AA, ...
    var s = "";
    for (k += 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + (k - 1) % 26) + s;
    return s;
  }
  function counterexampleTable(cx, byStart, tagOf, concurrent) {
    var table = document.createElement("table");
    table.className = "cx-ops";
    var head = table.createTHead().insertRow();
    ["op", "#", "process", "region", "f", "value", "outcome", "start s", "end s", "role"].forEach(function (h) {
      var th = document.createElement("th"); th.textContent = h; head.appendChild(th);
    });
    var body = table.createTBody();
    byStart.forEach(function (n) {
      var row = body.insertRow();
      row.className = n === cx.failing ? "failing" : "";
      var role = n === cx.failing ? "cannot be placed" : cx.prefix[n] ? "prefix, place " + cx.prefix[n]
               : concurrent.has(n) ? "concurrent with it" : "other";
      [tagOf[n], D.i[n], D.p[n], regionOfLane[LANE[n]], D.fs[F[n]], D.v[n] || "nil",
       answeredNo(n) ? "answered no (" + D.errors[D.er[n]] + ")" : TYPE_NAMES[TY[n]] +
         (D.er[n] >= 0 && !answeredNo(n) ? " (" + D.errors[D.er[n]] + ")" : ""),
       (T0[n] / 1e6).toFixed(4), D.d[n] >= 0 ? (T1[n] / 1e6).toFixed(4) : "-", role
      ].forEach(function (v, j) {
        var td = row.insertCell();
        td.textContent = String(v);
        if (j === 5) td.className = "value";
        else if (j === 1 || j === 2 || j === 7 || j === 8) td.className = "num";
      });
    });
    return table;
  }

  // --- wiring ----------------------------------------------------------------------
  var timeline = null;
  function part(name, fn) {
    var t = performance.now();
    try { var r = fn(); parts[name] = {ms: Math.round(performance.now() - t), drawn: r !== false}; }
    catch (e) { parts[name] = {error: String(e)}; console.error("gtcheck report: " + name + " failed:", e); }
  }
  if (N > 0) {
    part("timeline", function () { timeline = new Timeline(); });
    part("latency", latencyPlots);
    part("throughput", throughputPlot);
    part("availability", availabilityPlot);
    part("counter", counterPlot);
  }
  part("counterexample", counterexampleDiagrams);
  document.addEventListener("click", function (e) {
    var k = e.target.closest && e.target.closest("a.keylink");
    if (k && timeline) { e.preventDefault(); timeline.showKey(k.dataset.key); return; }
    var a = e.target.closest && e.target.closest("a.oplink");
    if (!a || !timeline) return;
    e.preventDefault();
    timeline.focus(parseInt(a.dataset.op, 10));
    history.replaceState(null, "", "#op-" + a.dataset.op);
  });
  var m = /^#op-(\d+)$/.exec(location.hash);
  if (m && timeline) timeline.focus(parseInt(m[1], 10));
  var syncMs = Math.round(performance.now() - started);
  requestAnimationFrame(function () {
    window.gtcheckReport = {ready: true, ms: Math.round(performance.now() - started), syncMs: syncMs,
                           ops: N, parts: parts};
    document.body.dataset.ready = "1";
  });
})();
