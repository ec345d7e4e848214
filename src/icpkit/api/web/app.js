// The page of `icpkit serve`: shows the ICP in force and scores a lead typed into the form.
// Every value from the server is put into the page as text (textContent, never innerHTML), so a spec or a
// record holding markup shows it literally. The token stays in this tab's sessionStorage.
"use strict";

(() => {
  const AUTH = document.body.dataset.auth === "required";
  const TOKEN_KEY = "icpkit-token";
  const TIERS = ["tier1", "tier2", "tier3", "none", "excluded"];
  let icp = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function status(message, kind) {
    const s = $("status");
    s.textContent = message || "";
    s.dataset.kind = kind || "";
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (AUTH) headers.Authorization = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const detail = data && data.detail ? data.detail : response.statusText;
      const error = new Error(response.status + ": " + detail);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // ------------------------------------------------------------------------------------------- the ICP

  function showIcp(data) {
    icp = data;
    const v = data.spec;
    $("version").textContent = v.name + " · version " + v.version + " · " + v.hash.slice(0, 10) + " · scored as of " + data.as_of;
    $("sentence").textContent = data.sentence;

    const layers = $("layers");
    layers.replaceChildren();
    for (const layer of data.layers) {
      const box = el("div", null, "layer");
      const head = el("h3");
      head.append(el("span", layer.name, "layer-name"), el("span", layer.points + " pts", "muted"));
      box.append(head);
      const list = el("ul", null, "criteria");
      for (const c of layer.criteria) {
        const item = el("li");
        item.append(el("span", "+" + c.points, "pts"), el("span", c.text));
        list.append(item);
      }
      box.append(list);
      layers.append(box);
    }

    const exclusions = $("exclusions");
    exclusions.replaceChildren();
    for (const e of data.exclusions) {
      const item = el("li");
      item.append(el("strong", e.text), el("span", " — " + e.reason, "muted"));
      exclusions.append(item);
    }
    if (!data.exclusions.length) exclusions.append(el("li", "none", "muted"));

    const rows = $("tiers").tBodies[0];
    rows.replaceChildren();
    for (const t of TIERS) {
      const row = el("tr");
      const floor = t in data.tiers ? "≥ " + data.tiers[t] : t === "none" ? "below tier3" : "any exclusion";
      const chip = el("td");
      chip.append(el("span", t, "tier tier-" + t));
      row.append(chip, el("td", floor), el("td", data.routing[t]));
      rows.append(row);
    }
    buildForm(data);
    $("icp").hidden = false;
    $("try").hidden = false;
  }

  // ------------------------------------------------------------------------------------------ the form

  function input(field, index) {
    const id = "f-" + index;
    const wrap = el("div", null, "field");
    const label = el("label", field.label);
    label.htmlFor = id;
    let control;
    if (field.kind === "boolean") {
      control = document.createElement("select");
      for (const [value, text] of [["", "unknown"], ["true", "yes"], ["false", "no"]]) {
        const option = el("option", text);
        option.value = value;
        control.append(option);
      }
    } else {
      control = document.createElement("input");
      control.type = field.kind === "number" ? "number" : field.kind === "date" ? "date" : "text";
      if (field.kind === "number") control.step = "any";
      if (field.kind === "list") control.placeholder = "comma-separated" + hint(field.suggestions);
      else if (field.suggestions.length) control.placeholder = "e.g." + hint(field.suggestions).slice(1);
      if (field.suggestions.length && field.kind === "text") {
        const list = document.createElement("datalist");
        list.id = id + "-values";
        for (const s of field.suggestions) {
          const option = document.createElement("option");
          option.value = String(s);
          list.append(option);
        }
        wrap.append(list);
        control.setAttribute("list", list.id);
      }
    }
    control.id = id;
    control.name = field.name;
    control.dataset.kind = field.kind;
    wrap.prepend(label);
    wrap.append(control);
    return wrap;
  }

  function hint(values) {
    return values.length ? ": " + values.slice(0, 3).map(String).join(", ") : "";
  }

  function buildForm(data) {
    const fields = $("fields");
    fields.replaceChildren();
    const all = data.fields.slice();
    if (data.enrichment) {
      all.unshift(
        { name: "email", label: "email (to look up the company)", kind: "text", suggestions: [] },
        { name: "domain", label: "website domain", kind: "text", suggestions: [] },
      );
    }
    all.forEach((f, i) => fields.append(input(f, i)));
  }

  function readRecord() {
    const record = {};
    for (const control of $("fields").querySelectorAll("input, select")) {
      const raw = control.value.trim();
      if (raw === "") continue;
      const kind = control.dataset.kind;
      if (kind === "number") record[control.name] = Number(raw);
      else if (kind === "boolean") record[control.name] = raw === "true";
      else if (kind === "list") record[control.name] = raw.split(",").map((s) => s.trim()).filter(Boolean);
      else record[control.name] = raw;
    }
    return record;
  }

  // ---------------------------------------------------------------------------------------- the result

  function showResult(r) {
    const box = $("result");
    $("r-score").textContent = r.score;
    const tier = $("r-tier");
    tier.textContent = r.tier;
    tier.className = "tier tier-" + r.tier;
    $("r-route").textContent = r.route;

    const e = r.enrichment;
    let line = "";
    if (e) {
      const filled = Object.entries(e.filled).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : v));
      line = "Enrichment: " + e.status.replace("_", " ") + (e.domain ? " (" + e.domain + ")" : "");
      if (filled.length) line += " — filled " + filled.join("; ");
    }
    $("r-enrichment").textContent = line;

    const hits = $("r-exclusions");
    hits.replaceChildren();
    for (const h of r.explanation.exclusions_hit) {
      const item = el("li");
      item.append(el("strong", "Excluded: " + h.text), el("span", " — " + h.reason));
      hits.append(item);
    }

    const matched = new Set(r.explanation.matched.map((m) => m.id));
    const unknown = new Set(r.explanation.unknown.map((m) => m.id));
    const rows = $("r-points").tBodies[0];
    rows.replaceChildren();
    for (const layer of icp.layers) {
      for (const c of layer.criteria) {
        const state = matched.has(c.id) ? "yes" : unknown.has(c.id) ? "unknown" : "no";
        const mark = state === "yes" ? "✓" : state === "unknown" ? "?" : "✗";
        const row = el("tr", null, "state-" + state);
        row.dataset.id = c.id;
        const points = state === "yes" ? "+" + c.points : state === "unknown" ? "unknown" : "0 of " + c.points;
        row.append(el("td", mark, "mark"), el("td", c.text), el("td", points, "num"));
        rows.append(row);
      }
    }
    for (const u of r.explanation.unknown.filter((x) => x.layer === "exclusion")) {
      const row = el("tr", null, "state-unknown");
      row.dataset.id = u.id;
      row.append(el("td", "?", "mark"), el("td", "could not check exclusion: " + u.text), el("td", "—", "num"));
      rows.append(row);
    }
    box.hidden = false;
    box.dataset.state = "done";
  }

  async function score(event) {
    event.preventDefault();
    const button = $("score-button");
    button.disabled = true;
    $("result").dataset.state = "busy";
    try {
      const r = await call("POST", "/v1/score", { record: readRecord() });
      showResult(r);
      status("");
    } catch (error) {
      $("result").dataset.state = "error";
      status(error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  // --------------------------------------------------------------------------------------------- start

  async function load() {
    if (AUTH && !token()) {
      status("Paste an API token to see the ICP and try a lead.", "info");
      return;
    }
    status("Loading the ICP…", "info");
    try {
      showIcp(await call("GET", "/v1/icp"));
      status("");
    } catch (error) {
      status(error.status === 401 ? "That token was not accepted." : error.message, "error");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tokenForm = $("token-form");
    if (tokenForm) {
      if (token()) $("token").value = token();
      tokenForm.addEventListener("submit", (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
        load();
      });
    }
    $("lead-form").addEventListener("submit", score);
    load();
  });
})();
