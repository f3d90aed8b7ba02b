// amparo: small, purposeful scripts. No framework, no build step.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  async function api(method, path, body, extraHeaders) {
    const headers = Object.assign({ "X-CSRF-Token": csrf() }, extraHeaders || {});
    const init = { method, headers, credentials: "same-origin" };
    if (body instanceof Blob) { init.body = body; }
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const r = await fetch("/api/v1" + path, init);
    if (r.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, data };
  }
  function li(text, href, extra) {
    const item = document.createElement("li");
    const target = href ? document.createElement("a") : item;
    if (href) { target.href = href; item.appendChild(target); }
    const b = document.createElement("b"); b.textContent = text; target.appendChild(b);
    if (extra) { const s = document.createElement("span"); s.className = "muted"; s.textContent = " " + extra; target.appendChild(s); }
    return item;
  }
  function childTitle(c) {
    const names = c.names || [];
    const n = names.find((x) => x.kind === "as_given" && x.script !== "hebrew") || names[0];
    if (n) { return [n.given, n.family].filter(Boolean).join(" "); }
    return c.case_number || c.id;
  }

  // ---------------------------------------------------------------- search as you type
  const q = document.getElementById("q");
  const results = document.getElementById("results");
  if (q && results) {
    let timer = null; let seq = 0;
    q.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++seq;
        const body = { q: q.value, limit: 50 };
        if (results.dataset.status) { body.status = results.dataset.status; }
        const r = await api("POST", "/children/search", body);
        if (mine !== seq || r.status !== 200) { return; }
        results.textContent = "";
        for (const c of r.data.items) {
          const extra = [c.case_number, c.wristband ? "#" + c.wristband : "", c.status].filter(Boolean).join(" · ");
          results.appendChild(li(childTitle(c), "/children/" + c.id, extra));
        }
        const count = document.getElementById("result-count");
        if (count) { count.textContent = r.data.items.length ? String(r.data.total) : results.dataset.none; }
      }, 180);
    });
  }

  // ---------------------------------------------------------------- fast intake
  const form = document.getElementById("intake");
  if (form) {
    const KEY = "amparo-intake-queue";
    const queueEl = document.getElementById("queue");
    const savedEl = document.getElementById("saved");
    const errorEl = document.getElementById("intake-error");
    const photos = new Map(); // photos stay in memory: too large for local storage
    const load = () => { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } };
    const store = (items) => localStorage.setItem(KEY, JSON.stringify(items));
    let sending = false;
    function render() {
      const items = load();
      queueEl.textContent = "";
      for (const it of items) {
        const row = li(it.label, null, it.error || "");
        if (it.error) { row.className = "failed"; }
        queueEl.appendChild(row);
      }
      document.getElementById("queue-count").textContent = String(items.length);
    }
    async function flush() {
      if (sending) { return; }
      sending = true;
      try {
        let items = load();
        for (const it of items.slice()) {
          if (it.error) { continue; }
          let r;
          try { r = await api("POST", "/intake", it.body, { "Idempotency-Key": it.key }); }
          catch (e) { errorEl.hidden = false; errorEl.textContent = form.dataset.offline; break; }
          items = load();
          if (r.status === 201 || r.status === 200) {
            const photo = photos.get(it.key);
            if (photo) { await api("PUT", "/children/" + r.data.id + "/photo", photo); photos.delete(it.key); }
            savedEl.prepend(li(it.label, "/children/" + r.data.id, r.data.case_number));
            document.getElementById("saved-count").textContent = String(savedEl.children.length);
            store(items.filter((x) => x.key !== it.key));
            errorEl.hidden = true;
          } else if (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 429) {
            const detail = (r.data && r.data.detail) || ("HTTP " + r.status);
            store(items.map((x) => (x.key === it.key ? Object.assign(x, { error: detail }) : x)));
            errorEl.hidden = false; errorEl.textContent = it.label + ": " + detail;
          } else { break; }
          render();
        }
      } finally { sending = false; render(); }
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const body = {
        operation_id: f.get("operation_id"), wristband: f.get("wristband") || "",
        given: f.get("given") || "", family: f.get("family") || "", sex: f.get("sex") || "unknown",
        birth: f.get("birth") || "", languages: f.get("languages") || "", sibling_of: f.get("hint") || ""
      };
      if (!body.wristband && !body.given && !body.family) { form.wristband.focus(); return; }
      const key = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      const label = ["#" + body.wristband, body.given, body.family].filter((x) => x && x !== "#").join(" ");
      const photo = form.photo && form.photo.files[0];
      if (photo) { photos.set(key, photo); }
      store(load().concat([{ key, body, label }]));
      const keepLang = form.languages.value; const keepOp = form.operation_id.value;
      form.reset();
      form.languages.value = keepLang; form.operation_id.value = keepOp;
      form.wristband.focus();
      render();
      flush();
    });
    window.addEventListener("online", flush);
    setInterval(flush, 5000);
    render();
    flush();
  }

  // ---------------------------------------------------------------- evidence upload
  const evForm = document.getElementById("evidence-upload");
  if (evForm) {
    evForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const file = document.getElementById("ev-file").files[0];
      const err = document.getElementById("ev-error");
      if (!file) { return; }
      const headers = { "X-Filename": encodeURIComponent(file.name),
                        "X-Description": encodeURIComponent(document.getElementById("ev-description").value) };
      const r = await api("POST", "/evidence?allegation=" + evForm.dataset.allegation, file, headers);
      if (r.status === 201) { window.location.reload(); }
      else { err.hidden = false; err.textContent = (r.data && r.data.detail) || ("HTTP " + r.status); }
    });
  }

  // ---------------------------------------------------------------- live roll call
  const rc = document.getElementById("rollcall");
  if (rc) {
    const id = rc.dataset.id;
    const label = (mark) => rc.dataset["l" + mark.replace(/_(.)/g, (m, c) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase())] || mark;
    function apply(childId, mark, location) {
      const card = document.getElementById("c-" + childId);
      if (!card) { return; }
      card.classList.remove("m-present", "m-elsewhere_known", "m-unaccounted");
      card.classList.add("m-" + mark);
      const text = document.getElementById("m-" + childId);
      if (text) { text.textContent = label(mark) + (location ? ": " + location : ""); }
    }
    function counts(c) {
      if (!c) { return; }
      document.getElementById("count-present").textContent = String(c.present);
      document.getElementById("count-elsewhere").textContent = String(c.elsewhere_known);
      document.getElementById("count-unaccounted").textContent = String(c.unaccounted);
    }
    function snapshot(s) {
      for (const row of s.children || []) { apply(row.child_id, row.mark, row.location); }
      counts(s.counts);
    }
    const grid = document.getElementById("rc-grid");
    grid.addEventListener("click", async (ev) => {
      const button = ev.target.closest("button[data-mark]");
      if (!button) { return; }
      const card = button.closest(".rc-card");
      const body = { child_id: card.dataset.id, mark: button.dataset.mark };
      if (body.mark === "elsewhere_known") {
        const where = window.prompt(rc.dataset.where);
        if (!where) { return; }
        body.location = where;
      }
      apply(body.child_id, body.mark, body.location);
      const r = await api("POST", "/roll-calls/" + id + "/marks", body);
      if (r.status === 201) { snapshot(r.data); }
    });
    const filter = document.getElementById("filter");
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const card of grid.children) {
        card.classList.toggle("hidden", q !== "" && !card.dataset.search.includes(q));
      }
    });
    const live = document.getElementById("live");
    const source = new EventSource("/api/v1/roll-calls/" + id + "/events");
    source.addEventListener("open", () => { live.textContent = "●"; });
    source.addEventListener("error", () => { live.textContent = "…"; });
    source.addEventListener("snapshot", (e) => snapshot(JSON.parse(e.data)));
    source.addEventListener("mark", (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "closed") { source.close(); window.location.reload(); return; }
      apply(m.child_id, m.mark, m.location);
      counts(m.counts);
    });
  }
})();
