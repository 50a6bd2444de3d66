/* Live parts of the web chat pages over /ws/v1/chat (channels_app/realtime/PROTOCOL.md).
 * The pages work without this file; it only adds live updates. User content is only ever set
 * with textContent, never parsed as HTML. */
(function () {
  "use strict";

  var body = document.body;
  var pageKind = body.dataset.page;
  var me = Number(body.dataset.userId || 0);

  if (pageKind === "channel-create") {
    setUpChannelForm();
  }
  if (!me || !("WebSocket" in window)) {
    return;
  }

  // --- small helpers --------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setCount(badge, count) {
    if (!badge) return;
    count = Math.max(0, count);
    badge.dataset.count = String(count);
    badge.textContent = String(count);
    badge.appendChild(el("span", "visually-hidden", " unread"));
    badge.hidden = count === 0;
  }

  function countOf(badge) {
    return badge ? Number(badge.dataset.count || 0) : 0;
  }

  var totalBadge = document.getElementById("total-unread");
  function addTotal(delta) {
    setCount(totalBadge, countOf(totalBadge) + delta);
  }

  function displayName(user) {
    return (user && (user.displayName || user.name)) || "System";
  }

  function channelTitle(channel) {
    if (channel.type === "DIRECT") {
      var names = (channel.members || [])
        .filter(function (member) { return member.id !== me; })
        .map(displayName);
      return names.join(", ") || "Direct";
    }
    return channel.displayName || channel.name || "";
  }

  var kindLabels = { PUBLIC: "Public", PRIVATE: "Private", DIRECT: "Direct" };

  function safeUrl(value) {
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch (error) {
      return "";
    }
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return months[date.getUTCMonth()] + " " + date.getUTCDate() + ", " +
      pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes());
  }

  // --- the connection -------------------------------------------------------------------------

  var status = document.getElementById("live-status");
  var socket = null;
  var connectedOnce = false;
  var retryDelay = 1000;
  var refCounter = 0;

  function setStatus(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function nextRef() {
    refCounter += 1;
    return "web-" + refCounter;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/v1/chat");
    socket.addEventListener("open", function () {
      retryDelay = 1000;
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame.type === "session.started") {
        setStatus("live", "Live");
        var reconnect = connectedOnce;
        connectedOnce = true;
        if (page.onStarted) page.onStarted(reconnect);
        return;
      }
      if (page.onFrame) page.onFrame(frame);
      common(frame);
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      if (event.code === 4401 || event.code === 4403) {
        setStatus("offline", "Offline");
        return; // signed out or refused: reconnecting would not help
      }
      setStatus("reconnecting", "Reconnecting…");
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  // Frames every page handles: the header's total unread count.
  function common(frame) {
    if (frame.type === "message.created" && frame.message && !frame.message.threadId) {
      var mine = frame.message.user && frame.message.user.id === me;
      var here = page.channelId === frame.channelId && page.readsLive;
      if (!mine && !here) addTotal(1);
    }
  }

  // --- channel list page ----------------------------------------------------------------------

  function listPage() {
    var rows = document.getElementById("channel-rows");
    var tab = body.dataset.tab;
    var firstPage = body.dataset.pageNumber === "1";

    function rowOf(channelId) {
      return rows.querySelector('li[data-channel-id="' + Number(channelId) + '"]');
    }

    function removeEmpty() {
      var empty = rows.querySelector("li.empty");
      if (empty) empty.remove();
    }

    function buildRow(channel) {
      var li = el("li", "channel-row");
      li.dataset.channelId = String(channel.id);
      var link = el("a", "channel-link");
      link.href = "/channels/" + Number(channel.id);
      var title = el("span", "channel-title");
      var kind = String(channel.type || "").toLowerCase();
      title.appendChild(el("span", "channel-kind kind-" + kind, kindLabels[channel.type] || ""));
      title.appendChild(el("span", "channel-name", channelTitle(channel)));
      link.appendChild(title);
      var preview = el("span", "channel-preview");
      preview.appendChild(el("span", "preview-body muted", "No messages yet"));
      link.appendChild(preview);
      li.appendChild(link);
      var badge = el("span", "badge");
      setCount(badge, 0);
      li.appendChild(badge);
      return li;
    }

    function setPreview(row, message) {
      var preview = row.querySelector(".channel-preview");
      if (!preview) return;
      preview.textContent = "";
      var text = message.body || (message.file && message.file.name) || "";
      if (text.length > 120) text = text.slice(0, 119) + "…";
      preview.appendChild(el("span", "preview-author", displayName(message.user) + ":"));
      preview.appendChild(document.createTextNode(" "));
      preview.appendChild(el("span", "preview-body", text));
    }

    function dropRow(channelId) {
      var row = rowOf(channelId);
      if (!row) return;
      if (tab === "joined") addTotal(-countOf(row.querySelector(".badge")));
      row.remove();
    }

    function refresh() {
      var ids = Array.prototype.map.call(rows.querySelectorAll("li[data-channel-id]"), function (row) {
        return row.dataset.channelId;
      });
      fetch("/unread?ids=" + encodeURIComponent(ids.join(",")), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          setCount(totalBadge, data.total);
          Object.keys(data.channels).forEach(function (id) {
            var row = rowOf(id);
            if (row) setCount(row.querySelector(".badge"), data.channels[id]);
          });
        })
        .catch(function () {});
    }

    return {
      onStarted: function (reconnect) {
        if (reconnect && tab === "joined") refresh();
      },
      onFrame: function (frame) {
        if (frame.type === "message.created" && frame.message && !frame.message.threadId) {
          var row = rowOf(frame.channelId);
          if (!row) return;
          setPreview(row, frame.message);
          var mine = frame.message.user && frame.message.user.id === me;
          if (tab === "joined" && !mine) {
            var badge = row.querySelector(".badge");
            setCount(badge, countOf(badge) + 1);
          }
          if (tab === "joined" && firstPage && rows.firstElementChild !== row) {
            rows.insertBefore(row, rows.firstElementChild);
          }
        } else if (frame.type === "channel.joined" || frame.type === "channel.created") {
          if (tab === "joined" && firstPage && frame.channel && !rowOf(frame.channel.id)) {
            removeEmpty();
            rows.insertBefore(buildRow(frame.channel), rows.firstElementChild);
          } else if (tab === "browse" && frame.channel) {
            dropRow(frame.channel.id);
          }
        } else if (frame.type === "channel.left" || frame.type === "channel.deleted") {
          if (tab === "joined" || frame.type === "channel.deleted") dropRow(frame.channelId);
        } else if (frame.type === "channel.read" && frame.user && frame.user.id === me) {
          var readRow = rowOf(frame.channelId);
          if (readRow && tab === "joined") {
            var readBadge = readRow.querySelector(".badge");
            addTotal(-countOf(readBadge));
            setCount(readBadge, 0);
          }
        }
      },
    };
  }

  // --- channel page ---------------------------------------------------------------------------

  function channelPage() {
    var channelId = Number(body.dataset.channelId);
    var isMember = body.dataset.member === "1";
    var atLatest = body.dataset.atLatest === "1";
    var lastSequence = Number(body.dataset.lastSequence || 0);
    var list = document.getElementById("messages");
    var members = document.getElementById("members");
    var notice = document.getElementById("channel-notice");
    var typingLine = document.getElementById("typing");
    var composer = document.getElementById("composer");
    var textarea = composer ? composer.querySelector("textarea") : null;
    var composerErrors = document.getElementById("composer-errors");
    var seenIds = {};
    var pending = {};
    var typers = {};
    var lastTypingSent = 0;
    var readTimer = null;

    Array.prototype.forEach.call(list.querySelectorAll("li[data-id]"), function (item) {
      seenIds[item.dataset.id] = true;
    });

    function scrollToEnd() {
      list.scrollTop = list.scrollHeight;
    }
    if (atLatest) scrollToEnd();

    function showNotice(text) {
      notice.textContent = text;
      notice.hidden = false;
    }

    function buildMessage(message) {
      var li = el("li", "message");
      if (message.user && message.user.id === me) li.classList.add("mine");
      if (!message.user) li.classList.add("system");
      li.dataset.id = String(message.id);
      li.dataset.sequence = String(message.sequence || 0);
      var meta = el("div", "message-meta");
      meta.appendChild(el("span", "message-author", displayName(message.user)));
      meta.appendChild(document.createTextNode(" "));
      var time = el("time", null, formatTime(message.createdTime));
      time.setAttribute("datetime", message.createdTime || "");
      meta.appendChild(time);
      li.appendChild(meta);
      var content = el("div", "message-body");
      if (message.file) {
        var url = safeUrl(message.file.url);
        if (url) {
          var link = el("a", null, message.file.name || url);
          link.href = url;
          link.rel = "noopener noreferrer nofollow";
          content.appendChild(link);
        } else {
          content.textContent = message.file.name || "";
        }
      } else {
        content.textContent = message.body || "";
      }
      li.appendChild(content);
      return li;
    }

    // Reading is one upsert on the server: at most one `read` a second, the last one never lost.
    var lastReadSent = 0;
    function sendRead() {
      readTimer = null;
      lastReadSent = Date.now();
      send({ type: "read", channelId: channelId });
    }
    function markRead() {
      if (!isMember || document.visibilityState === "hidden" || readTimer) return;
      var wait = 1000 - (Date.now() - lastReadSent);
      if (wait <= 0) sendRead();
      else readTimer = window.setTimeout(sendRead, wait);
    }
    window.addEventListener("pagehide", function () {
      if (readTimer) {
        window.clearTimeout(readTimer);
        sendRead();
      }
    });

    function appendMessage(message) {
      if (!message || message.threadId || seenIds[message.id]) return;
      seenIds[message.id] = true;
      if (message.sequence) lastSequence = Math.max(lastSequence, message.sequence);
      if (!atLatest) {
        showNotice("New messages arrived: jump to the latest to read them.");
        return;
      }
      var empty = document.getElementById("no-messages");
      if (empty) empty.remove();
      var nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
      list.appendChild(buildMessage(message));
      if (nearEnd || (message.user && message.user.id === me)) scrollToEnd();
      if (!message.user || message.user.id !== me) markRead();
      if (message.user) clearTyping(message.user.id);
    }

    function memberItem(userId) {
      return members ? members.querySelector('li[data-user-id="' + Number(userId) + '"]') : null;
    }

    function setPresence(item, online) {
      item.classList.toggle("online", online);
      var label = item.querySelector(".presence");
      if (label) label.textContent = online ? "(online)" : "(offline)";
    }

    function addMember(user) {
      if (!members || memberItem(user.id)) return;
      var li = el("li", "member");
      li.dataset.userId = String(user.id);
      var dot = el("span", "dot");
      dot.setAttribute("aria-hidden", "true");
      li.appendChild(dot);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "member-name", displayName(user)));
      li.appendChild(el("span", "visually-hidden presence", ""));
      setPresence(li, Boolean(user.presence && user.presence.online));
      members.appendChild(li);
    }

    function renderTyping() {
      var names = Object.keys(typers).map(function (id) { return typers[id].name; });
      if (!names.length) typingLine.textContent = "";
      else if (names.length === 1) typingLine.textContent = names[0] + " is typing…";
      else typingLine.textContent = names.join(", ") + " are typing…";
    }

    function clearTyping(userId) {
      if (typers[userId]) {
        window.clearTimeout(typers[userId].timer);
        delete typers[userId];
        renderTyping();
      }
    }

    function showComposerError(text) {
      if (!composerErrors) return;
      composerErrors.textContent = "";
      var ul = el("ul", "errorlist");
      ul.appendChild(el("li", null, text));
      composerErrors.appendChild(ul);
      if (textarea) textarea.setAttribute("aria-invalid", "true");
    }

    function clearComposerError() {
      if (composerErrors) composerErrors.textContent = "";
      if (textarea) textarea.removeAttribute("aria-invalid");
    }

    if (composer && textarea) {
      textarea.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (composer.requestSubmit) composer.requestSubmit();
          else composer.submit();
        }
      });
      textarea.addEventListener("input", function () {
        var now = Date.now();
        if (textarea.value && now - lastTypingSent > 3000) {
          if (send({ type: "typing", channelId: channelId, typing: true })) lastTypingSent = now;
        }
      });
      composer.addEventListener("submit", function (event) {
        var text = textarea.value;
        if (!text.trim()) {
          event.preventDefault();
          showComposerError("Write a message first.");
          return;
        }
        if (!socket || socket.readyState !== WebSocket.OPEN) return; // plain form POST
        event.preventDefault();
        var ref = nextRef();
        var keyField = composer.querySelector('input[name="idempotency_key"]');
        var key = (keyField && keyField.value ? keyField.value : "web") + "-" + ref;
        pending[ref] = text;
        send({ type: "message.send", channelId: channelId, body: text, ref: ref, idempotencyKey: key });
        textarea.value = "";
        lastTypingSent = 0;
        clearComposerError();
        textarea.focus();
      });
    }

    var older = document.getElementById("load-older");
    if (older) {
      older.addEventListener("click", function (event) {
        event.preventDefault();
        var before = older.dataset.before;
        var url = body.dataset.historyUrl + "?before=" + encodeURIComponent(before);
        fetch(url, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) {
            if (!data) return;
            var oldHeight = list.scrollHeight;
            var first = list.firstElementChild;
            data.messages.forEach(function (message) {
              if (seenIds[message.id]) return;
              seenIds[message.id] = true;
              list.insertBefore(buildMessage(message), first);
            });
            list.scrollTop += list.scrollHeight - oldHeight;
            if (data.before) {
              older.dataset.before = String(data.before);
              older.href = "?before=" + data.before;
            } else {
              older.parentNode.remove();
            }
          })
          .catch(function () {});
      });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") markRead();
    });

    return {
      channelId: channelId,
      readsLive: atLatest,
      onStarted: function () {
        // Fill the gap since the page was rendered (or since the connection dropped).
        if (!atLatest) return;
        if (isMember) {
          var channels = {};
          channels[channelId] = lastSequence;
          send({ type: "resume", channels: channels });
        } else {
          send({ type: "subscribe", channelId: channelId, lastSequence: lastSequence });
        }
      },
      onFrame: function (frame) {
        if (frame.type === "message.sent" && frame.message) {
          delete pending[frame.ref];
          if (frame.message.channelId === channelId) appendMessage(frame.message);
          return;
        }
        if (frame.type === "error") {
          if (frame.ref && pending[frame.ref] !== undefined) {
            if (textarea && !textarea.value) textarea.value = pending[frame.ref];
            delete pending[frame.ref];
            showComposerError(frame.message || "The message could not be sent.");
          }
          return;
        }
        if (frame.channelId !== channelId) return;
        switch (frame.type) {
          case "message.created":
            appendMessage(frame.message);
            break;
          case "message.updated": {
            var item = list.querySelector('li[data-id="' + Number(frame.message.id) + '"] .message-body');
            if (item && !frame.message.file) item.textContent = frame.message.body || "";
            break;
          }
          case "message.deleted": {
            var gone = list.querySelector('li[data-id="' + Number(frame.messageId) + '"]');
            if (gone) gone.remove();
            break;
          }
          case "typing":
            if (!frame.user || frame.user.id === me) break;
            clearTyping(frame.user.id);
            if (frame.typing !== false) {
              typers[frame.user.id] = {
                name: displayName(frame.user),
                timer: window.setTimeout(function () { clearTyping(frame.user.id); }, 5000),
              };
            }
            renderTyping();
            break;
          case "member.joined":
            addMember(frame.user);
            break;
          case "member.left": {
            var leaving = memberItem(frame.user.id);
            if (leaving) leaving.remove();
            if (frame.user.id === me) {
              showNotice(frame.removed ? "You were removed from this channel." : "You left this channel.");
              if (composer) composer.hidden = true;
            }
            break;
          }
          case "participant.presence": {
            var member = memberItem(frame.user.id);
            if (member) setPresence(member, Boolean(frame.online));
            break;
          }
          case "channel.deleted":
            showNotice("This channel was deleted.");
            if (composer) composer.hidden = true;
            break;
          default:
            break;
        }
      },
    };
  }

  // --- channel form: show the fields of the chosen type ----------------------------------------

  function setUpChannelForm() {
    var form = document.getElementById("channel-form");
    if (!form) return;
    function update() {
      var checked = form.querySelector('input[name="type"]:checked');
      var kind = checked ? checked.value : "PUBLIC";
      Array.prototype.forEach.call(form.querySelectorAll("[data-for-types]"), function (field) {
        field.hidden = field.dataset.forTypes.split(" ").indexOf(kind) === -1;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  var page = {};
  if (pageKind === "channel-list") page = listPage();
  else if (pageKind === "channel") page = channelPage();
  connect();
})();
