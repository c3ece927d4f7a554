// Block Kit -> DOM. Text goes in via textContent, mrkdwn via the escaping renderer,
// so nothing the app sends can inject markup. Interactive elements call ctx.onAction.
(function () {
  "use strict";
  const M = window.Mrkdwn;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "html") node.innerHTML = v; // only ever given Mrkdwn.render output
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c != null) node.append(c);
    return node;
  }

  function textObj(t, ctx, cls) {
    if (!t) return el("span");
    if (typeof t === "string") return el("span", { class: cls, text: t });
    if (t.type === "mrkdwn") return el("span", { class: ["mrkdwn", cls].filter(Boolean).join(" "), html: M.render(t.text, ctx) });
    const s = t.emoji === false ? t.text : String(t.text || "").replace(/:([a-z0-9_+\-]+):/g, (m, n) => M.emoji(n));
    return el("span", { class: cls, text: s });
  }

  function plain(t) { return t ? (typeof t === "string" ? t : t.text || "") : ""; }

  // ---- interactive elements --------------------------------------------------------------
  function button(e, blockId, ctx) {
    return el("button", {
      type: "button",
      class: `btn block-btn ${e.style || ""}`,
      "data-testid": `button-${e.action_id}`,
      "data-action-id": e.action_id,
      onclick: () => ctx.onAction(e, blockId, e.value ?? null),
    }, plain(e.text));
  }

  function options(e) {
    let opts = [...(e.options || [])];
    for (const g of e.option_groups || []) opts = opts.concat(g.options || []);
    return opts;
  }

  function selectEl(e, blockId, ctx, { interactive, testid }) {
    const sel = el("select", { class: "block-select", "data-testid": testid, "data-action-id": e.action_id, "data-block-id": blockId, "data-kind": e.type });
    sel.append(el("option", { value: "", text: plain(e.placeholder) || (e.type === "overflow" ? "⋯" : "Select…") }));
    let opts = options(e);
    if (e.type === "users_select") opts = Object.values(ctx.users || {}).filter((u) => !u.is_bot).map((u) => ({ value: u.id, text: { text: u.real_name } }));
    if (e.type === "conversations_select" || e.type === "channels_select") opts = Object.values(ctx.channels || {}).filter((c) => !c.is_im).map((c) => ({ value: c.id, text: { text: "#" + c.name } }));
    for (const o of opts) sel.append(el("option", { value: o.value, text: plain(o.text) }));
    const initial = e.initial_option ? e.initial_option.value : (e.initial_user || e.initial_conversation || e.initial_channel);
    if (initial) sel.value = initial;
    if (interactive) sel.addEventListener("change", () => { if (sel.value) ctx.onAction(e, blockId, sel.value); });
    return sel;
  }

  function inputElement(e, blockId, ctx, interactive) {
    const common = { "data-action-id": e.action_id, "data-block-id": blockId, "data-kind": e.type };
    switch (e.type) {
      case "plain_text_input": {
        const attrs = { ...common, "data-testid": `input-${blockId}`, placeholder: plain(e.placeholder), class: "text-input" };
        const node = e.multiline ? el("textarea", { ...attrs, rows: 4 }) : el("input", { ...attrs, type: "text" });
        if (e.initial_value) node.value = e.initial_value;
        if (e.max_length) node.maxLength = e.max_length;
        return node;
      }
      case "number_input": {
        const node = el("input", { ...common, type: "number", step: e.is_decimal_allowed ? "any" : "1", "data-testid": `input-${blockId}`, class: "text-input", min: e.min_value, max: e.max_value });
        if (e.initial_value) node.value = e.initial_value;
        return node;
      }
      case "datepicker": {
        const node = el("input", { ...common, type: "date", "data-testid": `input-${blockId}`, class: "text-input" });
        if (e.initial_date) node.value = e.initial_date;
        if (interactive) node.addEventListener("change", () => ctx.onAction(e, blockId, node.value));
        return node;
      }
      case "radio_buttons":
      case "checkboxes": {
        const group = el("div", { ...common, class: "choice-group", "data-testid": `input-${blockId}` });
        const initial = new Set([e.initial_option && e.initial_option.value, ...(e.initial_options || []).map((o) => o.value)]);
        for (const o of e.options || []) {
          const input = el("input", { type: e.type === "radio_buttons" ? "radio" : "checkbox", name: `${blockId}.${e.action_id}`, value: o.value, checked: initial.has(o.value) });
          if (interactive) input.addEventListener("change", () => ctx.onAction(e, blockId, o.value));
          group.append(el("label", { class: "choice" }, input, " ", textObj(o.text, ctx)));
        }
        return group;
      }
      case "static_select": case "external_select": case "users_select": case "conversations_select": case "channels_select":
        return selectEl(e, blockId, ctx, { interactive, testid: interactive ? `select-${e.action_id}` : `input-${blockId}` });
      case "overflow":
        return selectEl(e, blockId, ctx, { interactive: true, testid: `overflow-${e.action_id}` });
      case "button":
        return button(e, blockId, ctx);
      case "image":
        return imageEl(e, "accessory-image");
      default:
        return el("span", { class: "unsupported", text: `[${e.type}]` });
    }
  }

  function imageEl(e, cls) {
    // A file uploaded to the workspace (slack_file) is served by the workspace itself.
    const fileId = e.slack_file && e.slack_file.id;
    const src = fileId ? `/files/${encodeURIComponent(fileId)}` : M.safeUrl(e.image_url || "") || "";
    return el("img", { class: cls, src, alt: e.alt_text || "", title: e.alt_text || "" });
  }

  // ---- rich_text ----------------------------------------------------------------------------
  function richInline(items, ctx) {
    return (items || []).map((it) => {
      let node;
      switch (it.type) {
        case "text": node = el("span", { text: it.text }); break;
        case "link": {
          const url = M.safeUrl(it.url || "");
          node = url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: it.text || it.url }) : el("span", { text: it.text || it.url });
          break;
        }
        case "user": { const u = (ctx.users || {})[it.user_id]; node = el("span", { class: "mention", text: "@" + (u ? u.name : it.user_id) }); break; }
        case "channel": { const c = (ctx.channels || {})[it.channel_id]; node = el("span", { class: "mention", text: "#" + (c ? c.name : it.channel_id) }); break; }
        case "usergroup": { const g = (ctx.usergroups || {})[it.usergroup_id]; node = el("span", { class: "mention", text: "@" + (g ? g.handle : it.usergroup_id) }); break; }
        case "broadcast": node = el("span", { class: "mention broadcast", text: "@" + it.range }); break;
        case "emoji": node = el("span", { text: it.unicode ? String.fromCodePoint(...it.unicode.split("-").map((h) => parseInt(h, 16))) : M.emoji(it.name) }); break;
        default: node = el("span", { text: it.text || "" });
      }
      const st = it.style || {};
      if (st.code) node = el("code", {}, node);
      if (st.bold) node = el("b", {}, node);
      if (st.italic) node = el("i", {}, node);
      if (st.strike) node = el("s", {}, node);
      return node;
    });
  }

  function richText(block, ctx) {
    const root = el("div", { class: "rich-text" });
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") root.append(el("div", { class: "rt-section" }, richInline(part.elements, ctx)));
      else if (part.type === "rich_text_preformatted") root.append(el("pre", { class: "code-block" }, richInline(part.elements, ctx)));
      else if (part.type === "rich_text_quote") root.append(el("blockquote", {}, richInline(part.elements, ctx)));
      else if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        for (const item of part.elements || []) list.append(el("li", {}, richInline(item.elements, ctx)));
        root.append(list);
      }
    }
    return root;
  }

  // ---- blocks -----------------------------------------------------------------------------
  function renderBlock(b, ctx) {
    const id = b.block_id || "";
    const interactive = true;
    switch (b.type) {
      case "header":
        return el("h3", { class: "blk-header" }, textObj(b.text, ctx));
      case "divider":
        return el("hr", { class: "blk-divider" });
      case "section": {
        const body = el("div", { class: "blk-section-body" });
        if (b.text) body.append(el("div", { class: "blk-text" }, textObj(b.text, ctx)));
        if (b.fields) body.append(el("div", { class: "blk-fields" }, b.fields.map((f) => el("div", { class: "blk-field" }, textObj(f, ctx)))));
        const acc = b.accessory ? el("div", { class: "blk-accessory" }, inputElement(b.accessory, id, ctx, interactive)) : null;
        return el("div", { class: "blk-section", "data-block-id": id }, body, acc);
      }
      case "context":
        return el("div", { class: "blk-context" }, (b.elements || []).map((e) => (e.type === "image" ? imageEl(e, "ctx-image") : textObj(e, ctx))));
      case "actions":
        return el("div", { class: "blk-actions", "data-block-id": id }, (b.elements || []).map((e) => inputElement(e, id, ctx, true)));
      case "image":
        return el("figure", { class: "blk-image" }, b.title ? el("figcaption", {}, textObj(b.title, ctx)) : null, imageEl(b, "image"));
      case "rich_text":
        return richText(b, ctx);
      case "input": {
        const error = (ctx.errors || {})[id];
        return el("div", { class: `blk-input${error ? " has-error" : ""}`, "data-block-id": id },
          el("label", { class: "input-label" }, plain(b.label), b.optional ? el("span", { class: "optional", text: " (optional)" }) : null),
          inputElement(b.element || {}, id, ctx, Boolean(b.dispatch_action)),
          b.hint ? el("div", { class: "hint" }, textObj(b.hint, ctx)) : null,
          error ? el("div", { class: "field-error", "data-testid": `modal-error-${id}`, text: error }) : null);
      }
      default:
        return el("div", { class: "unsupported", text: `[unsupported block: ${b.type}]` });
    }
  }

  function renderBlocks(blocks, ctx) {
    const frag = el("div", { class: "blocks" });
    for (const b of blocks || []) frag.append(renderBlock(b, ctx));
    return frag;
  }

  // Values of input blocks, shaped {block_id: {action_id: value}} for /ui/api/view/submit.
  function collectValues(root) {
    const values = {};
    for (const node of root.querySelectorAll("[data-action-id][data-block-id]")) {
      const blockId = node.dataset.blockId, actionId = node.dataset.actionId, kind = node.dataset.kind;
      if (!kind || kind === "button" || kind === "overflow") continue;
      let value;
      if (kind === "checkboxes") value = [...node.querySelectorAll("input:checked")].map((i) => i.value);
      else if (kind === "radio_buttons") { const c = node.querySelector("input:checked"); value = c ? c.value : null; }
      else value = node.value === "" ? null : node.value;
      (values[blockId] = values[blockId] || {})[actionId] = value;
    }
    return values;
  }

  function restoreValues(root, values) {
    for (const node of root.querySelectorAll("[data-action-id][data-block-id]")) {
      const v = (values[node.dataset.blockId] || {})[node.dataset.actionId];
      if (v == null) continue;
      if (node.dataset.kind === "checkboxes" || node.dataset.kind === "radio_buttons") {
        const wanted = new Set([].concat(v));
        for (const i of node.querySelectorAll("input")) i.checked = wanted.has(i.value);
      } else if ("value" in node) node.value = v;
    }
  }

  window.Blocks = { renderBlocks, collectValues, restoreValues, el, textObj, plain };
})();
