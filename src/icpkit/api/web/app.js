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

  function fillLayers(box, layers) {
    box.replaceChildren();
    for (const layer of layers) {
      const part = el("div", null, "layer");
      const head = el("h3");
      head.append(el("span", layer.name, "layer-name"), el("span", layer.points + " pts", "muted"));
      part.append(head);
      const list = el("ul", null, "criteria");
      for (const c of layer.criteria) {
        const item = el("li");
        item.append(el("span", "+" + c.points, "pts"), el("span", c.text));
        list.append(item);
      }
      part.append(list);
      box.append(part);
    }
  }

  function fillExclusions(list, exclusions) {
    list.replaceChildren();
    for (const e of exclusions) {
      const item = el("li");
      item.append(el("strong", e.text), el("span", " — " + e.reason, "muted"));
      list.append(item);
    }
    if (!exclusions.length) list.append(el("li", "none", "muted"));
  }

  function fillTiers(rows, tiers, routing) {
    rows.replaceChildren();
    for (const t of TIERS) {
      const row = el("tr");
      const floor = t in tiers ? "≥ " + tiers[t] : t === "none" ? "below tier3" : "any exclusion";
      const chip = el("td");
      chip.append(el("span", t, "tier tier-" + t));
      row.append(chip, el("td", floor), el("td", routing[t]));
      rows.append(row);
    }
  }

  // One segment of a multi-segment spec, as a column: its sentence, criteria, exclusions, tiers and routing.
  function segmentCard(seg) {
    const card = el("div", null, "segment");
    card.dataset.segment = seg.name;
    card.append(el("h3", seg.name, "segment-name"));
    if (seg.description) card.append(el("p", seg.description, "muted"));
    card.append(el("p", seg.sentence, "sentence"));
    const layers = el("div");
    fillLayers(layers, seg.layers);
    card.append(layers, el("h3", "Exclusions"));
    const exclusions = el("ul", null, "exclusions");
    fillExclusions(exclusions, seg.exclusions);
    card.append(exclusions, el("h3", "Tiers and routing"));
    const table = el("table", null, "tiers");
    const head = el("tr");
    for (const h of ["tier", "score", "route"]) head.append(el("th", h));
    table.createTHead().append(head);
    fillTiers(table.createTBody(), seg.tiers, seg.routing);
    card.append(table);
    return card;
  }

  function showPersonas(personas) {
    const list = $("personas");
    list.replaceChildren();
    for (const p of personas) {
      const item = el("li");
      item.dataset.persona = p.name;
      const who = [];
      if (p.titles.length) who.push("title " + p.titles.join(", "));
      if (p.seniority.length) who.push("seniority " + p.seniority.join(", "));
      if (p.department.length) who.push("department " + p.department.join(", "));
      if (p.exclude_titles.length) who.push("not " + p.exclude_titles.join(", "));
      item.append(el("strong", p.name), el("span", " — " + who.join("; "), "muted"));
      list.append(item);
    }
    $("personas-box").hidden = !personas.length && !(icp.routing_rules || []).length;
    const rules = $("routing-rules");
    rules.replaceChildren();
    for (const rule of icp.routing_rules || []) {
      const when = [rule.tier ? rule.tier.join(" or ") : "any tier", rule.persona ? rule.persona.join(" or ") : "anyone"];
      const item = el("li");
      item.append(el("span", "Route " + when.join(" + ") + " → ", "muted"), el("strong", rule.route));
      rules.append(item);
    }
  }

  function showIcp(data) {
    icp = data;
    const v = data.spec;
    $("version").textContent = v.name + " · version " + v.version + " · " + v.hash.slice(0, 10) + " · scored as of " + data.as_of;
    const segmented = Array.isArray(data.segments) && data.segments.length > 0;
    $("single").hidden = segmented;
    $("segments-note").hidden = !segmented;
    $("segments").hidden = !segmented;
    if (segmented) {
      $("segments").replaceChildren(...data.segments.map(segmentCard));
    } else {
      $("sentence").textContent = data.sentence;
      fillLayers($("layers"), data.layers);
      fillExclusions($("exclusions"), data.exclusions);
      fillTiers($("tiers").tBodies[0], data.tiers, data.routing);
    }
    showPersonas(data.personas || []);
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
    $("r-segment-box").hidden = r.segment === null || r.segment === undefined;
    $("r-segment").textContent = r.segment || "";
    const scores = $("r-segment-scores");
    scores.hidden = !r.segment_scores;
    scores.textContent = r.segment_scores
      ? "Fit per segment: " + Object.entries(r.segment_scores).map(([k, v]) => k + " " + v).join(" · ")
      : "";
    const hasPersonas = r.persona_match !== null && r.persona_match !== undefined;
    $("r-persona-box").hidden = !hasPersonas;
    $("r-persona").textContent = hasPersonas ? (r.persona ? r.persona + " (" + r.persona_match + "% match)" : "none") : "";

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
    // with segments, the explanation's ids are the best segment's own
    const best = r.segment && icp.segments ? icp.segments.find((seg) => seg.name === r.segment) : null;
    for (const layer of best ? best.layers : icp.layers) {
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
