// devslack page: sidebar, channel view, threads, modals, App Home; live via /ui/ws.
(function () {
  "use strict";
  const { renderBlocks, collectValues, restoreValues, el, plain } = window.Blocks;
  const M = window.Mrkdwn;
  const $ = (id) => document.getElementById(id);

  const S = {
    team: null, bot: null, users: {}, channels: {}, usergroups: {},
    user: null,        // acting user id
    view: null,        // {kind: "channel", id} | {kind: "home"}
    thread: null,      // {channel, ts}
    modal: null,       // currently shown modal view (Slack JSON)
    stickBottom: true, // scroll the message list to its end on the next refresh
    ephemeralSeen: {}, // per channel: the ephemeral messages already shown to this user
    seq: { main: 0, thread: 0, modal: 0 },
  };

  // ---- server calls -------------------------------------------------------------------
  async function getJSON(path, params) {
    const r = await fetch(path + (params ? "?" + new URLSearchParams(params) : ""));
    return r.json();
  }
  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return r.json();
  }
  function ctx(extra) {
    return { users: S.users, channels: S.channels, usergroups: S.usergroups, ...extra };
  }

  // ---- sidebar ----------------------------------------------------------------------------
  async function loadBootstrap() {
    const data = await getJSON("/ui/api/bootstrap");
    S.team = data.team; S.bot = data.bot;
    S.users = Object.fromEntries(data.users.map((u) => [u.id, u]));
    S.channels = Object.fromEntries(data.channels.map((c) => [c.id, c]));
    S.usergroups = Object.fromEntries(data.usergroups.map((g) => [g.id, g]));
    document.querySelector('[data-testid="team-name"]').textContent = data.team.name;
    $("workspace-timezone").textContent = `Times in ${data.team.timezone}`;
    renderUserSwitcher();
    renderSidebar();
  }

  function renderUserSwitcher() {
    const sel = $("user-switcher");
    const humans = Object.values(S.users).filter((u) => !u.is_bot);
    if (!S.user || !S.users[S.user]) {
      const wanted = new URLSearchParams(location.search).get("user") || localStorage.getItem("devslack.user");
      S.user = (humans.find((u) => u.id === wanted || u.name === wanted) || humans[0] || {}).id;
    }
    sel.replaceChildren(...humans.map((u) => el("option", { value: u.id, text: `${u.real_name} (@${u.name})` })));
    sel.value = S.user;
  }

  function myDm() {
    return Object.values(S.channels).find((c) => c.is_im && c.im_user === S.user);
  }

  function renderSidebar() {
    const list = $("channel-list");
    const visible = Object.values(S.channels)
      .filter((c) => !c.is_im && (!c.is_private || c.members.includes(S.user)))
      .sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...visible.map((c) => el("li", {
      class: "nav-item" + (S.view && S.view.id === c.id ? " active" : ""),
      "data-testid": `channel-item-${c.name}`, "data-channel-id": c.id,
      onclick: () => openChannel(c.id),
    }, el("span", { class: "hash", text: c.is_private ? "🔒" : "#" }), c.name)));
    const dm = myDm();
    $("app-list").replaceChildren(
      el("li", { class: "nav-item" + (S.view && S.view.kind === "home" ? " active" : ""), "data-testid": "home-item", onclick: openHome },
        el("span", { class: "hash", text: "⌂" }), `${S.bot.name} · Home`),
      dm ? el("li", { class: "nav-item" + (S.view && S.view.id === dm.id ? " active" : ""), "data-testid": "dm-item", "data-channel-id": dm.id, onclick: () => openChannel(dm.id) },
        el("span", { class: "hash", text: "●" }), `${S.bot.name} · Messages`) : null,
    );
  }

  // ---- main pane ---------------------------------------------------------------------------
  function openChannel(id) {
    S.view = { kind: "channel", id };
    S.stickBottom = true;
    history.replaceState(null, "", "#" + id);
    const c = S.channels[id];
    $("channel-title").textContent = c.is_im ? `${S.bot.name} (app)` : `${c.is_private ? "🔒" : "#"} ${c.name}`;
    $("channel-topic").textContent = c.is_im ? "Direct messages with the app" : (c.topic || `${c.members.length} members`);
    $("new-assistant-thread").hidden = !c.is_im;
    $("messages").hidden = false; $("home").hidden = true; $("composer-form").hidden = false;
    $("composer").placeholder = c.is_im ? `Message ${S.bot.name}, or /command` : `Message #${c.name}, or /command`;
    renderSidebar();
    refreshMain();
  }

  async function openHome() {
    S.view = { kind: "home" };
    history.replaceState(null, "", "#home");
    $("channel-title").textContent = `${S.bot.name} · Home`;
    $("channel-topic").textContent = "App Home tab";
    $("new-assistant-thread").hidden = true;
    $("messages").hidden = true; $("home").hidden = false; $("composer-form").hidden = true;
    renderSidebar();
    refreshMain();
    await post("/ui/api/home/open", { user: S.user });
  }

  async function refreshMain() {
    const seq = ++S.seq.main;
    if (!S.view) return;
    if (S.view.kind === "home") {
      const data = await getJSON("/ui/api/views", { user: S.user });
      if (seq !== S.seq.main) return;
      const home = data.home;
      $("home").replaceChildren(home
        ? renderBlocks(home.blocks, ctx({ surface: "home", onAction: (e, b, v) => viewAction(home, e, b, v) }))
        : el("div", { class: "empty", text: "The app has not published a Home view for you yet." }));
      return;
    }
    const data = await getJSON("/ui/api/messages", { channel: S.view.id, user: S.user });
    if (seq !== S.seq.main) return;
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const top = box.scrollTop;
    // A reply only you can see answers something you just did (a click far up the channel, say):
    // like Slack, bring it into view rather than leave it below the fold.
    const known = S.ephemeralSeen[S.view.id];
    const mine = data.messages.filter((m) => m.ephemeral).map((m) => m.ts);
    const answered = known !== undefined && mine.some((ts) => !known.has(ts));
    S.ephemeralSeen[S.view.id] = new Set(mine);
    box.replaceChildren(...(data.messages.length ? data.messages.map((m) => renderMessage(m, false)) : [el("div", { class: "empty", text: "No messages yet." })]));
    // Follow new messages while the reader is at the end; otherwise keep their place.
    const follow = atBottom || S.stickBottom || answered;
    box.scrollTop = follow ? box.scrollHeight : top;
    if (follow) keepAtBottomWhileImagesLoad(box);
    S.stickBottom = false;
  }

  // An image (a chart) that loads after the list was scrolled to its end makes the list taller:
  // the newest message would end under the composer. Follow it down, unless the reader has
  // scrolled away meanwhile.
  function keepAtBottomWhileImagesLoad(box) {
    for (const img of box.querySelectorAll("img")) {
      if (img.complete) continue;
      img.addEventListener("load", () => {
        if (box.scrollHeight - box.scrollTop - box.clientHeight < 80 + img.clientHeight) box.scrollTop = box.scrollHeight;
      }, { once: true });
    }
  }

  // ---- messages ------------------------------------------------------------------------------
  function initials(name) { return (name || "?").slice(0, 1).toUpperCase(); }
  function colorOf(id) { let h = 0; for (const ch of id || "") h = (h * 31 + ch.charCodeAt(0)) % 360; return `hsl(${h} 45% 45%)`; }
  // Every time on the page is shown in the workspace's one time zone (labelled in the sidebar),
  // like the times the app writes, so nothing on a screen mixes zones.
  function inZone(date, opts) {
    try { return date.toLocaleString("en-GB", { timeZone: S.team.timezone, ...opts }); }
    catch (e) { return date.toLocaleString("en-GB", { timeZone: "UTC", ...opts }); }
  }
  function timeOf(ts) {
    const at = new Date(parseFloat(ts) * 1000);
    const day = (d) => inZone(d, { year: "numeric", month: "2-digit", day: "2-digit" });
    const clock = inZone(at, { hour: "2-digit", minute: "2-digit", hour12: false });
    return day(at) === day(new Date()) ? clock : `${inZone(at, { weekday: "short", day: "2-digit", month: "short" })} ${clock}`;
  }
  function fullTimeOf(ts) {
    return `${inZone(new Date(parseFloat(ts) * 1000), { dateStyle: "full", timeStyle: "medium" })} (${S.team.timezone})`;
  }

  function renderMessage(m, inThread) {
    const isBot = Boolean(m.bot_id);
    const author = isBot ? S.bot.name : m.user === "USLACKBOT" ? "Slackbot" : (S.users[m.user] || {}).real_name || m.user;
    const authorId = isBot ? S.bot.id : m.user;
    const body = el("div", { class: "msg-body" });
    if (m.subtype === "assistant_app_thread") {
      body.append(el("div", { class: "assistant-root", text: "Assistant thread" }));
    } else if (m.blocks && m.blocks.length && !m.text_only) {
      body.append(renderBlocks(m.blocks, ctx({ surface: "message", onAction: (e, b, v) => messageAction(m, e, b, v) })));
    } else {
      body.append(el("div", { class: "mrkdwn", html: M.render(m.text, ctx()) }));
    }
    for (const a of m.attachments || []) {
      body.append(el("div", { class: "attachment", style: a.color ? `border-left-color:${/^#?[0-9a-f]{3,6}$/i.test(a.color) ? (a.color[0] === "#" ? a.color : "#" + a.color) : "#ddd"}` : null },
        a.title ? el("b", { text: a.title }) : null,
        a.text ? el("div", { class: "mrkdwn", html: M.render(a.text, ctx()) }) : null,
        a.blocks ? renderBlocks(a.blocks, ctx({ onAction: (e, b, v) => messageAction(m, e, b, v) })) : null));
    }
    const meta = el("div", { class: "msg-meta" },
      el("span", { class: "msg-author", text: author }),
      isBot ? el("span", { class: "badge", text: "APP" }) : null,
      el("span", { class: "msg-time", "data-testid": "message-time", text: timeOf(m.ts), title: fullTimeOf(m.ts) }),
      m.edited ? el("span", { class: "msg-edited", text: "(edited)" }) : null);
    const footer = [];
    if (m.ephemeral) footer.push(el("div", { class: "ephemeral-label", "data-testid": "ephemeral-label", text: "Only visible to you" }));
    if (!inThread && m.reply_count) {
      footer.push(el("button", { class: "reply-count", "data-testid": "reply-count", onclick: () => openThread(m.channel, m.ts) },
        `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`));
    }
    const tools = (!inThread && !m.ephemeral)
      ? el("div", { class: "msg-tools" }, el("button", { class: "icon-btn", title: "Reply in thread", "data-testid": "message-reply", onclick: () => openThread(m.channel, m.ts) }, "Reply"))
      : null;
    return el("article", {
      class: "message" + (m.ephemeral ? " ephemeral" : ""),
      "data-testid": "message", "data-ts": m.ts, "data-user": authorId,
    }, el("div", { class: "avatar", style: `background:${colorOf(authorId)}`, text: isBot ? "✦" : initials(author) }),
    el("div", { class: "msg-main" }, meta, body, footer), tools);
  }

  // ---- interactions --------------------------------------------------------------------------
  function confirmFirst(element) {
    const c = element.confirm;
    if (!c) return Promise.resolve(true);
    return new Promise((resolve) => {
      $("confirm-title").textContent = plain(c.title) || "Are you sure?";
      $("confirm-text").replaceChildren(Blocks.textObj(c.text, ctx()));
      $("confirm-confirm").textContent = plain(c.confirm) || "Yes";
      $("confirm-deny").textContent = plain(c.deny) || "Cancel";
      $("confirm-confirm").className = "btn " + (c.style === "danger" ? "danger" : "primary");
      $("confirm-overlay").hidden = false;
      const done = (ok) => { $("confirm-overlay").hidden = true; $("confirm-confirm").onclick = $("confirm-deny").onclick = null; resolve(ok); };
      $("confirm-confirm").onclick = () => done(true);
      $("confirm-deny").onclick = () => done(false);
    });
  }

  async function messageAction(m, element, blockId, value) {
    if (!(await confirmFirst(element))) return;
    await post("/ui/api/action", { user: S.user, channel: m.channel, ts: m.ts, action_id: element.action_id, block_id: blockId, value });
  }

  async function viewAction(view, element, blockId, value) {
    if (!(await confirmFirst(element))) return;
    const values = view.type === "modal" ? collectValues($("modal-body")) : undefined;
    await post("/ui/api/action", { user: S.user, view_id: view.id, action_id: element.action_id, block_id: blockId, value, values });
  }

  // ---- threads -----------------------------------------------------------------------------
  function openThread(channel, ts) {
    S.thread = { channel, ts };
    if (S.view && S.view.kind === "channel" && S.view.id === channel) history.replaceState(null, "", `#${channel}/${ts}`);
    $("thread").hidden = false;
    const c = S.channels[channel];
    $("thread-channel").textContent = c ? (c.is_im ? S.bot.name : "#" + c.name) : "";
    refreshThread();
    $("thread-composer").focus();
  }

  async function refreshThread() {
    const seq = ++S.seq.thread;
    if (!S.thread) return;
    const data = await getJSON("/ui/api/messages", { channel: S.thread.channel, user: S.user, thread_ts: S.thread.ts });
    if (seq !== S.seq.thread) return;
    const box = $("thread-messages");
    box.replaceChildren(...data.messages.map((m) => renderMessage(m, true)));
    box.scrollTop = box.scrollHeight;
    keepAtBottomWhileImagesLoad(box);
    const a = data.assistant;
    $("assistant-status").hidden = !(a && (a.status || a.title));
    if (a) $("assistant-status").textContent = [a.title && `“${a.title}”`, a.status && `${S.bot.name} ${a.status}`].filter(Boolean).join(" · ");
    const prompts = (a && a.prompts) || [];
    $("assistant-prompts").hidden = !prompts.length;
    $("assistant-prompts").replaceChildren(
      ...(a && a.prompts_title ? [el("div", { class: "prompts-title", text: a.prompts_title })] : []),
      ...prompts.map((p) => el("button", { class: "btn prompt", "data-testid": "assistant-prompt",
        onclick: () => post("/ui/api/compose", { user: S.user, channel: S.thread.channel, text: p.message, thread_ts: S.thread.ts }) }, p.title)));
  }

  function closeThread() {
    S.thread = null; $("thread").hidden = true;
    if (S.view && S.view.kind === "channel") history.replaceState(null, "", "#" + S.view.id);
  }

  // Links to this workspace's own messages (permalinks) open here, on the thread when the
  // link names one, as Slack opens its permalinks in the client instead of a new tab.
  function followPermalink(href) {
    let url;
    try { url = new URL(href, location.href); } catch (e) { return false; }
    const m = url.origin === location.origin && url.pathname.match(/^\/archives\/([A-Z0-9]+)\/p(\d+)$/);
    if (!m || !S.channels[m[1]]) return false;
    openChannel(m[1]);
    const threadTs = url.searchParams.get("thread_ts");
    if (threadTs) openThread(m[1], threadTs);
    return true;
  }

  // ---- modal ---------------------------------------------------------------------------------
  async function refreshModal() {
    const seq = ++S.seq.modal;
    const data = await getJSON("/ui/api/views", { user: S.user });
    if (seq !== S.seq.modal) return;
    const view = data.modal;
    if (!view) { S.modal = null; $("modal-overlay").hidden = true; return; }
    const keep = S.modal && S.modal.id === view.id ? collectValues($("modal-body")) : null;
    S.modal = view;
    $("modal-title").textContent = plain(view.title);
    $("modal-submit").textContent = plain(view.submit) || "Submit";
    // A modal opened from a danger button (Reject…) confirms a destructive action: no green "go".
    $("modal-submit").className = "btn " + (view.opened_from_style === "danger" ? "danger-fill" : "primary");
    $("modal-submit").hidden = !view.submit;
    $("modal-close").textContent = plain(view.close) || "Cancel";
    const errors = view.errors || {};
    $("modal-body").replaceChildren(renderBlocks(view.blocks, ctx({ surface: "modal", errors, onAction: (e, b, v) => viewAction(view, e, b, v) })));
    if (keep) restoreValues($("modal-body"), keep);
    const general = errors[""] || Object.entries(errors).filter(([k]) => !view.blocks.some((b) => b.block_id === k)).map(([, v]) => v).join(" ");
    $("modal-error").hidden = !general; $("modal-error").textContent = general || "";
    $("modal-overlay").hidden = false;
  }

  // ---- composer ------------------------------------------------------------------------------
  function wireComposer(formId, inputId, target) {
    const form = $(formId), input = $(inputId);
    const send = async () => {
      const text = input.value.trim();
      const t = target();
      if (!text || !t) return;
      input.value = "";
      if (!t.thread_ts) S.stickBottom = true;  // what you send, and its answer, come into view
      await post("/ui/api/compose", { user: S.user, channel: t.channel, text, thread_ts: t.thread_ts });
    };
    form.addEventListener("submit", (ev) => { ev.preventDefault(); send(); });
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(); } });
  }

  // ---- live updates --------------------------------------------------------------------------
  function connectLive() {
    const sock = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ui/ws`);
    sock.onopen = () => { $("conn-state").textContent = "live"; $("conn-state").className = "conn ok"; };
    sock.onclose = () => { $("conn-state").textContent = "reconnecting…"; $("conn-state").className = "conn"; setTimeout(connectLive, 1000); };
    sock.onmessage = (ev) => onChange(JSON.parse(ev.data));
  }

  async function onChange(c) {
    if (c.type === "channels" || c.type === "users") { await loadBootstrap(); return; }
    if (c.type === "message") {
      if (c.ephemeral_user && c.ephemeral_user !== S.user) return;
      if (S.view && S.view.id === c.channel && !c.thread_ts) refreshMain();
      if (S.thread && S.thread.channel === c.channel && (c.thread_ts === S.thread.ts || c.ts === S.thread.ts)) refreshThread();
    } else if (c.type === "view" && c.user === S.user) refreshModal();
    else if (c.type === "home" && c.user === S.user && S.view && S.view.kind === "home") refreshMain();
    else if (c.type === "assistant" && S.thread && S.thread.channel === c.channel && S.thread.ts === c.thread_ts) refreshThread();
  }

  // ---- wiring --------------------------------------------------------------------------------
  async function main() {
    await loadBootstrap();
    await post("/ui/api/client/start", { user: S.user });
    document.addEventListener("click", (ev) => {
      const a = ev.target.closest && ev.target.closest("a[href]");
      if (a && followPermalink(a.href)) ev.preventDefault();
    });
    $("user-switcher").addEventListener("change", (ev) => {
      S.user = ev.target.value; localStorage.setItem("devslack.user", S.user);
      S.ephemeralSeen = {};
      closeThread(); renderSidebar();
      if (S.view && S.view.kind === "channel" && S.channels[S.view.id].is_im) openChannel(myDm().id);
      else if (S.view && S.view.kind === "home") openHome();
      else refreshMain();
      refreshModal();
    });
    wireComposer("composer-form", "composer", () => S.view && S.view.kind === "channel" ? { channel: S.view.id } : null);
    wireComposer("thread-composer-form", "thread-composer", () => S.thread ? { channel: S.thread.channel, thread_ts: S.thread.ts } : null);
    $("thread-close").onclick = closeThread;
    $("modal").addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (S.modal) post("/ui/api/view/submit", { user: S.user, view_id: S.modal.id, values: collectValues($("modal-body")) });
    });
    const close = () => { if (S.modal) post("/ui/api/view/close", { user: S.user, view_id: S.modal.id }); };
    $("modal-close").onclick = close; $("modal-x").onclick = close;
    $("new-assistant-thread").onclick = async () => {
      const r = await post("/ui/api/assistant/open", { user: S.user });
      if (r.ok) openThread(r.channel, r.thread_ts);
    };
    connectLive();
    const [hash, hashThread] = location.hash.slice(1).split("/");
    if (hash === "home") openHome();
    else if (S.channels[hash]) { openChannel(hash); if (hashThread) openThread(hash, hashThread); }
    else {
      const general = Object.values(S.channels).find((c) => c.name === "general" && !c.is_im) || Object.values(S.channels).find((c) => !c.is_im);
      if (general) openChannel(general.id); else if (myDm()) openChannel(myDm().id);
    }
    refreshModal();
  }

  main();
})();
