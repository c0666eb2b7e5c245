// The browser client of the event bridge. It opens one WebSocket for the page, sends events
// from elements marked with data attributes, applies the server's deltas to bound elements,
// follows redirect actions, shows flash messages, and reconnects with backoff. Without it,
// pages still work as plain HTML forms.
//
//   data-event="notes.add"       on a form: its fields become the payload on submit;
//                                on another element: a click sends `data-payload` (JSON)
//   data-bind="auth.username"    text content follows a state field
//   data-show="notes.can_delete" shown only while the field is truthy
//   data-list="notes.items"      children rebuilt from the field (an array) with the
//                                element's <template>; inside it, data-field="title" sets
//                                text and data-field-value="id" sets an input's value
//   data-show-empty="notes.items" shown only while the array is empty
//   data-messages                flash messages are appended here
"use strict";

(() => {
  const state = {};
  const pending = new Map();
  let socket = null;
  let nextId = 1;
  let retryDelay = 500;
  let leaving = false;

  const pageState = document.body.dataset.bridgeState || "";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  function lookup(path) {
    const [name, field] = path.split(".");
    return state[name] ? state[name][field] : undefined;
  }

  function truthy(value) {
    return Array.isArray(value) ? value.length > 0 : Boolean(value);
  }

  function render(root) {
    root.querySelectorAll("[data-bind]").forEach((element) => {
      const value = lookup(element.dataset.bind);
      if (value !== undefined) element.textContent = String(value);
    });
    root.querySelectorAll("[data-show]").forEach((element) => {
      const value = lookup(element.dataset.show);
      if (value !== undefined) element.hidden = !truthy(value);
    });
    root.querySelectorAll("[data-show-empty]").forEach((element) => {
      const value = lookup(element.dataset.showEmpty);
      if (value !== undefined) {
        element.hidden = truthy(value);
        if (!truthy(value)) element.textContent = element.textContent || "Nothing here yet.";
      }
    });
    root.querySelectorAll("[data-list]").forEach((list) => {
      const items = lookup(list.dataset.list);
      const template = list.querySelector(":scope > template");
      if (!Array.isArray(items) || !template) return;
      [...list.children].forEach((child) => { if (child !== template) child.remove(); });
      items.forEach((item) => {
        const fragment = template.content.cloneNode(true);
        fragment.querySelectorAll("[data-field]").forEach((element) => {
          element.textContent = String(item[element.dataset.field] ?? "");
        });
        fragment.querySelectorAll("[data-field-value]").forEach((element) => {
          element.value = String(item[element.dataset.fieldValue] ?? "");
        });
        render(fragment);
        bindEvents(fragment);
        list.appendChild(fragment);
      });
    });
  }

  function showMessages(messages) {
    const box = document.querySelector("[data-messages]");
    if (!box) return;
    messages.forEach((message) => {
      const paragraph = document.createElement("p");
      paragraph.className = `message ${message.tags}`;
      paragraph.setAttribute("role", "status");
      paragraph.textContent = message.message;
      box.appendChild(paragraph);
    });
  }

  function follow(actions) {
    // A navigation is already under way, such as the logout form's own POST; starting
    // another would abort it.
    if (leaving) return;
    for (const action of actions || []) {
      if (action.redirect) {
        leaving = true;
        window.location.assign(action.redirect);
        return;
      }
    }
  }

  function onFrame(frame) {
    if (frame.push) {
      follow(frame.actions);
      return;
    }
    const done = pending.get(frame.id);
    pending.delete(frame.id);
    if (frame.error) {
      showMessages([{ tags: "error", message: frame.error.message }]);
      return;
    }
    for (const [name, fields] of Object.entries(frame.delta || {})) {
      state[name] = Object.assign(state[name] || {}, fields);
    }
    render(document);
    showMessages(frame.messages || []);
    follow(frame.actions);
    if (done) done();
  }

  function send(event, payload, done) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    const id = nextId++;
    if (done) pending.set(id, done);
    socket.send(JSON.stringify({ id, event, payload: payload || {} }));
    return true;
  }

  function formPayload(form) {
    const payload = {};
    new FormData(form).forEach((value, key) => {
      if (key === "csrf_token") return;
      const input = form.elements.namedItem(key);
      payload[key] = input && input.dataset && input.dataset.type === "number" ? Number(value) : value;
    });
    return payload;
  }

  function bindEvents(root) {
    root.querySelectorAll("[data-event]").forEach((element) => {
      if (element.dataset.bridgeBound) return;
      element.dataset.bridgeBound = "1";
      const event = element.dataset.event;
      if (element.tagName === "FORM") {
        element.addEventListener("submit", (domEvent) => {
          // With the socket down, the form posts as plain HTML.
          if (send(event, formPayload(element), () => element.reset())) domEvent.preventDefault();
        });
      } else {
        element.addEventListener("click", (domEvent) => {
          const payload = element.dataset.payload ? JSON.parse(element.dataset.payload) : {};
          if (send(event, payload)) domEvent.preventDefault();
        });
      }
    });
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ path: window.location.pathname, csrf });
    socket = new WebSocket(`${scheme}//${window.location.host}/_event?${query}`);
    socket.addEventListener("open", () => {
      retryDelay = 500;
      document.documentElement.dataset.bridge = "open";
      send("auth.refresh");
      if (pageState) send(`${pageState}.on_load`);
    });
    socket.addEventListener("message", (message) => {
      try {
        onFrame(JSON.parse(message.data));
      } catch (error) {
        console.error("event bridge: unreadable frame", error);
      }
    });
    socket.addEventListener("close", () => {
      document.documentElement.dataset.bridge = "closed";
      if (leaving) return;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  window.addEventListener("beforeunload", () => { leaving = true; });
  bindEvents(document);
  connect();
})();
