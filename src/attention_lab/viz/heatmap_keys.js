// Keyboard and screen-reader access to a plotly heatmap (WCAG 2.1: 2.1.1 keyboard, 4.1.3 status
// messages). The heatmap takes the focus (Tab); the arrow keys move a cursor cell, Home/End jump
// to the first/last column, PageUp/PageDown to the first/last row; the row, the column and the
// value of the cell are written to a live region (a screen reader reads them out) and shown as
// plotly's own hover label. With a head menu (plotly buttons, which a keyboard cannot reach), an
// HTML <select> does the same. The numbers of the heatmap on show fill a table, collapsed in a
// <details> element, rebuilt when another head is chosen.
// Used by attention_lab.viz.heatmap.show (course pages, notebooks) and the attention explorer.
(function () {
  "use strict";
  if (window.alHeatmapKeys) return;

  function visibleTrace(gd) {
    const k = gd.data.findIndex((t) => t.type === "heatmap" && t.visible !== false);
    return k < 0 ? 0 : k;
  }

  function axisLabels(axis, n) {
    const text = axis && axis.ticktext;
    if (text && text.length === n) return text.map(String);
    return Array.from({ length: n }, (_, i) => String(i));
  }

  function axisTitle(axis, fallback) {
    const title = axis && axis.title;
    const text = title && (typeof title === "string" ? title : title.text);
    return text ? String(text).replace(/<[^>]*>/g, "") : fallback;
  }

  function view(gd) {
    const k = visibleTrace(gd);
    const trace = gd.data[k];
    const z = trace.z;
    return {
      k, z, name: trace.name || "",
      rows: axisLabels(gd.layout.yaxis, z.length), cols: axisLabels(gd.layout.xaxis, z[0].length),
      rowTitle: axisTitle(gd.layout.yaxis, "row"), colTitle: axisTitle(gd.layout.xaxis, "column"),
    };
  }

  function number(v) {
    return v === null || v === undefined || Number.isNaN(v) ? "no value" : Number(v).toFixed(3);
  }

  function fillTable(gd, box) {
    const v = view(gd);
    const table = document.createElement("table");
    table.className = "al-numbers";
    const caption = table.createCaption();
    caption.textContent = `${v.name ? v.name + ": " : ""}${v.rowTitle} (rows) by ${v.colTitle} (columns)`;
    const head = table.createTHead().insertRow();
    const corner = document.createElement("th");
    corner.scope = "col";
    corner.textContent = `${v.rowTitle} \\ ${v.colTitle}`;
    head.append(corner);
    for (const c of v.cols) {
      const th = document.createElement("th"); th.scope = "col"; th.textContent = c; head.append(th);
    }
    const body = table.createTBody();
    v.z.forEach((row, i) => {
      const tr = body.insertRow();
      const th = document.createElement("th"); th.scope = "row"; th.textContent = v.rows[i]; tr.append(th);
      for (const value of row) tr.insertCell().textContent = number(value);
    });
    box.replaceChildren(table);
  }

  function labelModeBar(gd) {
    // plotly's toolbar buttons are links with a tooltip only: give them a name and a role
    for (const a of gd.querySelectorAll(".modebar-btn")) {
      const name = a.getAttribute("data-title");
      if (name) { a.setAttribute("aria-label", name); a.setAttribute("role", "button"); }
    }
  }

  function headMenu(gd, onChange) {
    const menu = (gd.layout.updatemenus || [])[0];
    if (!menu || !menu.buttons || menu.buttons.length < 2) return null;
    const label = document.createElement("label");
    label.className = "al-heatmap-menu";
    label.textContent = "Show ";
    const select = document.createElement("select");
    menu.buttons.forEach((b, i) => select.append(new Option(b.label, String(i))));
    select.value = String(menu.active || 0);
    select.addEventListener("change", () => {
      const i = Number(select.value), b = menu.buttons[i];
      Plotly.update(gd, b.args[0], Object.assign({}, b.args[1] || {}, { "updatemenus[0].active": i }))
        .then(onChange);
    });
    label.append(select);
    return label;
  }

  function install(gd, options) {
    options = options || {};
    if (!gd || gd.dataset.alKeys === "on") return;
    if (typeof gd.on !== "function" || !gd.data) {  // plotly has not drawn it yet
      setTimeout(() => install(gd, options), 50);
      return;
    }
    gd.dataset.alKeys = "on";
    const live = options.live || document.createElement("p");
    if (!options.live) {
      live.className = "al-heatmap-live";
      live.setAttribute("aria-live", "polite");
      gd.after(live);
    }
    const table = options.table || null;
    let cell = [0, 0];
    gd.tabIndex = 0;
    gd.setAttribute("role", "application");
    gd.setAttribute("aria-roledescription", "heatmap");
    const name = options.label || gd.getAttribute("aria-label") || "heatmap";
    gd.setAttribute("aria-label", `${name}. Arrow keys move between cells; the value is read out.`);

    function say() {
      const v = view(gd);
      const i = Math.min(cell[0], v.z.length - 1), j = Math.min(cell[1], v.z[0].length - 1);
      cell = [i, j];
      live.textContent = `${v.name ? v.name + ", " : ""}${v.rowTitle} ${i}: ${v.rows[i]}, ` +
        `${v.colTitle} ${j}: ${v.cols[j]}, value ${number(v.z[i][j])}`;
      gd.dataset.cell = `${i},${j}`;
      try { Plotly.Fx.hover(gd, [{ curveNumber: v.k, pointNumber: [i, j] }]); } catch (e) { /* hover is a bonus */ }
    }

    let menu = null;
    function refresh() {
      if (table) fillTable(gd, table);
      // the menu follows plotly's own buttons (one button per trace, in order)
      if (menu) menu.querySelector("select").value = String(visibleTrace(gd));
      labelModeBar(gd);
      if (gd.dataset.cell !== undefined) say();
    }

    gd.addEventListener("keydown", (e) => {
      const v = view(gd), last = [v.z.length - 1, v.z[0].length - 1];
      const moves = {
        ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
      };
      if (e.key in moves) {
        cell = [Math.max(0, Math.min(last[0], cell[0] + moves[e.key][0])),
                Math.max(0, Math.min(last[1], cell[1] + moves[e.key][1]))];
      } else if (e.key === "Home") cell = [cell[0], 0];
      else if (e.key === "End") cell = [cell[0], last[1]];
      else if (e.key === "PageUp") cell = [0, cell[1]];
      else if (e.key === "PageDown") cell = [last[0], cell[1]];
      else return;
      e.preventDefault();
      e.stopPropagation();  // the page's own arrow keys (e.g. next head) stay out of it
      say();
    });
    gd.addEventListener("focus", say);
    gd.addEventListener("blur", () => { try { Plotly.Fx.unhover(gd); } catch (e) { /* ignore */ } });
    gd.on("plotly_afterplot", () => { labelModeBar(gd); });
    gd.on("plotly_restyle", refresh);
    gd.on("plotly_update", refresh);
    gd.on("plotly_react", refresh);
    if (options.menu !== false) {
      menu = headMenu(gd, refresh);
      if (menu) gd.before(menu);
    }
    refresh();
  }

  window.alHeatmapKeys = install;
})();
