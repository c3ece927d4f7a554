// Slack mrkdwn -> safe HTML. Everything user-supplied is HTML-escaped before any markup is added;
// generated fragments are parked in placeholders so later regexes cannot touch them.
(function () {
  "use strict";

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // Slack sends &amp; &lt; &gt; for literal characters; decode them before our own escaping.
  function decodeEntities(s) {
    return String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function safeUrl(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function controlSequence(inner, ctx) {
    const [target, label] = splitOnce(inner, "|");
    const users = ctx.users || {}, channels = ctx.channels || {}, groups = ctx.usergroups || {};
    if (target.startsWith("@")) {
      const u = users[target.slice(1)];
      return `<span class="mention">@${escapeHtml(u ? u.name : label || target.slice(1))}</span>`;
    }
    if (target.startsWith("#")) {
      const c = channels[target.slice(1)];
      return `<span class="mention">#${escapeHtml(c ? c.name : label || target.slice(1))}</span>`;
    }
    if (target.startsWith("!subteam^")) {
      const g = groups[target.slice(9)];
      return `<span class="mention">@${escapeHtml(g ? g.handle : label || "group")}</span>`;
    }
    if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0];
      return `<span class="mention broadcast">@${escapeHtml(label || special)}</span>`;
    }
    const url = safeUrl(decodeEntities(target));
    if (!url) return escapeHtml(decodeEntities(label || target));
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(decodeEntities(label || target))}</a>`;
  }

  function splitOnce(s, sep) {
    const i = s.indexOf(sep);
    return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
  }

  function inlineStyles(s) {
    // s is already escaped. Slack requires the markers to sit at word boundaries.
    const pre = "(^|[\\s(\\[{>\"'])", post = "(?=$|[\\s.,;:!?)\\]}<\"'])";
    s = s.replace(new RegExp(pre + "\\*([^*\\n]+?)\\*" + post, "g"), "$1<b>$2</b>");
    s = s.replace(new RegExp(pre + "_([^_\\n]+?)_" + post, "g"), "$1<i>$2</i>");
    s = s.replace(new RegExp(pre + "~([^~\\n]+?)~" + post, "g"), "$1<s>$2</s>");
    return s;
  }

  function render(text, ctx) {
    ctx = ctx || {};
    const parked = [];
    const park = (html) => `\u0000${parked.push(html) - 1}\u0000`;
    let s = String(text == null ? "" : text);

    s = s.replace(/```([\s\S]*?)```/g, (_, code) => park(`<pre class="code-block">${escapeHtml(decodeEntities(code.replace(/^\n/, "")))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => park(`<code>${escapeHtml(decodeEntities(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (_, inner) => park(controlSequence(inner, ctx)));
    s = escapeHtml(decodeEntities(s));
    s = inlineStyles(s);
    s = s.replace(/:([a-z0-9_+\-]+):/g, (m, name) => EMOJI[name] || m);

    // Block quotes: consecutive lines starting with "> " (escaped as &gt;).
    const lines = s.split("\n"), out = [];
    let quote = [];
    const flush = () => { if (quote.length) { out.push(`<blockquote>${quote.join("<br>")}</blockquote>`); quote = []; } };
    for (const line of lines) {
      const m = line.match(/^&gt;\s?(.*)$/);
      if (m) quote.push(m[1]); else { flush(); out.push(line); }
    }
    flush();
    s = out.join("\n").replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => parked[Number(i)]);
  }

  // Emoji shortcodes we know; others stay as :name:.
  const EMOJI = { "white_check_mark": "✅", "x": "❌", "warning": "⚠️", "rocket": "🚀", "tada": "🎉", "eyes": "👀",
    "thumbsup": "👍", "+1": "👍", "hourglass_flowing_sand": "⏳", "bulb": "💡", "memo": "📝", "robot_face": "🤖",
    "wave": "👋", "fire": "🔥", "red_circle": "🔴", "large_green_circle": "🟢", "large_yellow_circle": "🟡", "lock": "🔒" };
  function emoji(name) { return EMOJI[name] || `:${name}:`; }

  window.Mrkdwn = { render, escapeHtml, decodeEntities, safeUrl, emoji };
})();
