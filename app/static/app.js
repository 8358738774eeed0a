// Progressive enhancement only: every page works without this file.
// - GOV.UK Frontend components (initAll), again on the content htmx swaps in; their banners and
//   error summaries never take the focus from someone already typing (the script comes late);
// - focus after a step is swapped in: the error summary if any, else the new page's <h1>;
// - autosave failures (expired session, CSRF, network) say so with a "Réessayer" button and
//   never touch what was typed; what was typed before the scripts ran is autosaved once they run.
// Loaded as an ES module from base.html; no inline script anywhere (CSP).

// Normally set before first paint by js-enabled.js; repeated here so this file stands alone.
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}

const GOVUK_I18N = {
  // Components whose default texts are English.
  accordion: {
    i18n: {
      hideAllSections: "Masquer toutes les sections",
      hideSection: "Masquer",
      hideSectionAriaLabel: "Masquer cette section",
      showAllSections: "Afficher toutes les sections",
      showSection: "Afficher",
      showSectionAriaLabel: "Afficher cette section",
    },
  },
};

let govuk = null;

function ignoreInitError() {
  // A component already initialised (data-*-init) throws InitError on a second initAll: harmless.
}

function initComponents(scope) {
  if (!govuk) return;
  // GOV.UK's script arrives after the page (imported below): someone may already have tabbed into a
  // field and be typing. A banner or error summary then keeps its hands off the focus; on a page
  // nobody has touched yet it takes it, as GOV.UK intends.
  const touched = scope === document && document.activeElement !== document.body;
  const focus = { disableAutoFocus: touched };
  govuk.initAll({
    ...GOVUK_I18N,
    errorSummary: focus,
    notificationBanner: focus,
    scope,
    onError: ignoreInitError,
  });
}

const govukScript = document.querySelector("script[data-govuk-frontend]");
if (govukScript) {
  import(govukScript.dataset.govukFrontend)
    .then((module) => {
      govuk = module;
      initComponents(document);
    })
    .catch(() => {
      // Without GOV.UK's JavaScript the components still work as plain HTML.
    });
}

// --- focus after a step swap ----------------------------------------------------------------

function focusStep() {
  const container = document.getElementById("workflow-step");
  if (!container) return;
  const target = container.querySelector(".govuk-error-summary") || container.querySelector("h1");
  if (!target) return;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}

function cameFromStepForm(event) {
  const elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
  return Boolean(elt && elt.matches && elt.matches("[data-workflow-form]"));
}

document.addEventListener("htmx:afterSettle", (event) => {
  if (!cameFromStepForm(event)) return;
  const container = document.getElementById("workflow-step");
  if (container) initComponents(container.parentElement || document);
  focusStep();
});

// --- a filter form answered 422 (the LUCIE mailbox's dates): focus the error summary, as a full page
// load of the same answer does (GOV.UK error summary pattern).

document.addEventListener("htmx:afterSettle", (event) => {
  const xhr = event.detail && event.detail.xhr;
  const target = event.detail && event.detail.target;
  if (!xhr || xhr.status !== 422 || !target || !target.querySelector || cameFromStepForm(event)) return;
  const summary = target.querySelector(".govuk-error-summary");
  if (!summary) return;
  initComponents(target);
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
});

// --- autosave and step-save failures -------------------------------------------------------------

function failureText(xhr) {
  const status = xhr ? xhr.status : 0;
  if (status === 401) {
    return "Échec de l'enregistrement automatique : votre session a expiré. Votre saisie reste sur cette page ; reconnectez-vous dans un autre onglet, puis réessayez.";
  }
  if (status === 400 || status === 403) {
    return "Échec de l'enregistrement automatique : la page n'est plus valable (droits modifiés ou formulaire trop ancien). Votre saisie reste sur cette page.";
  }
  if (status === 0) {
    return "Échec de l'enregistrement automatique : pas de connexion au serveur. Votre saisie reste sur cette page.";
  }
  return "Échec de l'enregistrement automatique. Votre saisie reste sur cette page.";
}

async function refreshCsrfToken() {
  let response;
  try {
    response = await fetch("/session/jeton", { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    return false;
  }
  if (!response.ok) return false;
  const token = (await response.json()).csrf_token;
  const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  headers["X-CSRFToken"] = token;
  document.body.setAttribute("hx-headers", JSON.stringify(headers));
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = token;
  return true;
}

function showFailure(sourceElt, xhr) {
  const status = document.getElementById("autosave-status");
  if (!status) return;
  const message = document.createElement("strong");
  message.className = "app-autosave-status__error";
  message.textContent = failureText(xhr) + " ";
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "govuk-button govuk-button--secondary app-autosave-status__retry";
  retry.textContent = "Réessayer";
  retry.addEventListener("click", async () => {
    status.textContent = "Nouvel essai…";
    // After a new sign-in (in another tab) the page's CSRF token is stale: fetch the session's one.
    if (!(await refreshCsrfToken())) {
      showFailure(sourceElt, { status: 401 });
      return;
    }
    if (sourceElt.matches("[data-autosave]")) {
      window.htmx.trigger(sourceElt, "autosave-retry");
    } else if (sourceElt.requestSubmit) {
      sourceElt.requestSubmit();
    }
  });
  status.replaceChildren(message, retry);
}

function isWorkflowRequest(elt) {
  return Boolean(elt && elt.matches && elt.matches("[data-autosave], [data-workflow-form]"));
}

for (const name of ["htmx:responseError", "htmx:sendError", "htmx:timeout"]) {
  document.addEventListener(name, (event) => {
    const elt = event.detail && event.detail.elt;
    if (!isWorkflowRequest(elt)) return;
    showFailure(elt, event.detail.xhr);
  });
}

// --- what was typed before the scripts ran ------------------------------------------------------------
// htmx binds the autosave once the page has loaded; on a slow line a person may already have typed, and
// that typing sent no autosave (the step's own save keeps it, but nothing said « Brouillon enregistré »
// until the next keystroke). Once htmx is ready, a form whose fields differ from what the server sent
// autosaves at once. A browser that restored what was typed before a reload is caught the same way.

function changedSinceLoad(form) {
  return [...form.elements].some((field) => {
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return [...field.options].some((option) => option.selected !== option.defaultSelected);
    }
    if (field.type === "hidden" || field.type === "file" || !("defaultValue" in field)) return false;
    return field.value !== field.defaultValue;
  });
}

if (window.htmx) {
  window.htmx.onLoad((root) => {
    if (root !== document.body) return;
    for (const autosave of document.querySelectorAll("[data-autosave]")) {
      const form = autosave.closest("form");
      if (form && changedSinceLoad(form)) window.htmx.trigger(autosave, "autosave-retry");
    }
  });
}

// --- conditional reveals without aria-expanded -------------------------------------------------------
// GOV.UK's radios and checkboxes put aria-expanded on the inputs of a conditional reveal, which ARIA
// does not allow there (axe: aria-allowed-attr, critical; govuk-frontend issue #979). Templates that
// rename the macro's data-aria-controls to data-app-reveals get this instead: the revealed block
// follows its input in the page and shows while the input is checked. No aria-controls either: GOV.UK's
// click handler would add aria-expanded to any radio that has one. Without JavaScript every block
// stays visible.

function syncReveals() {
  for (const input of document.querySelectorAll("input[data-app-reveals]")) {
    const block = document.getElementById(input.dataset.appReveals);
    if (!block) continue;
    const hidden = block.classList.contains("govuk-checkboxes__conditional")
      ? "govuk-checkboxes__conditional--hidden"
      : "govuk-radios__conditional--hidden";
    block.classList.toggle(hidden, !input.checked);
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("input[type=radio], input[type=checkbox]")) syncReveals();
});
document.addEventListener("htmx:afterSettle", syncReveals);
syncReveals();

// --- witnesses: one slot, then « Ajouter un autre témoin » --------------------------------------------
// The DAT's witnesses step has three slots. With JavaScript, the optional slots that hold nothing (no
// value, no error) wait behind a button that shows the next one and moves the focus into it. Without
// JavaScript every slot stays visible.

function setUpWitnesses(root) {
  for (const group of root.querySelectorAll("[data-app-witnesses]")) {
    const button = group.querySelector("[data-app-add-witness]");
    if (!button || button.dataset.appReady) continue;
    button.dataset.appReady = "1";
    const slots = [...group.querySelectorAll("fieldset[data-app-optional]")];
    const used = (slot) =>
      [...slot.querySelectorAll("input, textarea")].some((input) => input.value.trim() !== "") ||
      slot.querySelector(".govuk-error-message") !== null;
    // Keep every slot up to the last one in use; hide the empty ones after it.
    const lastUsed = slots.map(used).lastIndexOf(true);
    slots.forEach((slot, index) => {
      slot.hidden = index > lastUsed;
    });
    const update = () => {
      button.hidden = !slots.some((slot) => slot.hidden);
    };
    button.addEventListener("click", () => {
      const next = slots.find((slot) => slot.hidden);
      if (!next) return;
      next.hidden = false;
      update();
      const first = next.querySelector("input, textarea");
      if (first) first.focus();
    });
    update();
  }
}

document.addEventListener("htmx:afterSettle", (event) => setUpWitnesses(event.target));
setUpWitnesses(document);

// --- warning before the session ends for inactivity ---------------------------------------------
// The server ends a signed-in session after SESSION_IDLE_MINUTES without a request (app/sessions.py).
// Before that, a modal dialog offers to stay signed in. The server's /session/etat (which does not
// count as activity) is asked before acting, because another tab may have been active meanwhile.
// When the session has ended, the page is reloaded, so the sign-in page says why; unless what was
// typed here could not be saved (an autosave failure is showing): then the dialog says so and the
// page stays as it is.

function durationText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes}\u00a0minute${minutes > 1 ? "s" : ""}`);
  if (seconds || !minutes) parts.push(`${seconds}\u00a0seconde${seconds > 1 ? "s" : ""}`);
  return parts.join(" ");
}

function setUpSessionTimeout(dialog) {
  const warningMs = Number(dialog.dataset.warningSeconds) * 1000;
  const recheckMs = 30000;
  const countdown = dialog.querySelector("[data-timeout-countdown]");
  const announce = dialog.querySelector("[data-timeout-announce]");
  const warningPart = dialog.querySelector("[data-timeout-warning]");
  const endedPart = dialog.querySelector("[data-timeout-ended]");
  let endsAt = Date.now() + Number(dialog.dataset.idleSeconds) * 1000;
  let timer = null;
  let ticker = null;
  let announcedMinute = null;

  function at(time, action) {
    clearTimeout(timer);
    timer = setTimeout(action, Math.max(0, time - Date.now()));
  }

  // Milliseconds left according to the server; 0 once the session has ended; null if unknown.
  async function askServer(url, options = {}) {
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json", ...(options.headers || {}) },
        method: options.method || "GET",
      });
      if (response.status === 401 || response.status === 400) return 0;
      if (!response.ok) return null;
      return (await response.json()).remaining_seconds * 1000;
    } catch {
      return null;
    }
  }

  function tick() {
    const left = endsAt - Date.now();
    countdown.textContent = durationText(left);
    const minute = Math.ceil(left / 60000);
    if (minute !== announcedMinute && left > 0) {
      announcedMinute = minute;
      announce.textContent = `Déconnexion dans ${durationText(minute * 60000)}.`;
    }
  }

  function show(part) {
    warningPart.hidden = part !== "warning";
    endedPart.hidden = part !== "ended";
    dialog.setAttribute("aria-labelledby", `session-timeout-${part === "ended" ? "ended-" : ""}title`);
    dialog.setAttribute("aria-describedby", `session-timeout-${part === "ended" ? "ended-" : ""}text`);
  }

  function openWarning() {
    if (!dialog.open) {
      show("warning");
      announcedMinute = null;
      tick();
      dialog.showModal();
      ticker = setInterval(tick, 1000);
    }
  }

  function closeDialog() {
    clearInterval(ticker);
    if (dialog.open) dialog.close();
  }

  function ended() {
    clearInterval(ticker);
    if (document.querySelector(".app-autosave-status__error")) {
      show("ended");
      if (!dialog.open) dialog.showModal();
      return;
    }
    window.location.reload();
  }

  async function check() {
    const left = await askServer(dialog.dataset.statusUrl);
    if (left === null) {
      at(Date.now() + recheckMs, check);
      return;
    }
    endsAt = Date.now() + left;
    if (left <= 0) {
      ended();
    } else if (left > warningMs) {
      closeDialog();
      at(endsAt - warningMs, check);
    } else {
      openWarning();
      at(Math.min(endsAt, Date.now() + recheckMs), check);
    }
  }

  async function extend() {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    const left = await askServer(dialog.dataset.extendUrl, { method: "POST", headers });
    if (left) {
      endsAt = Date.now() + left;
      closeDialog();
      at(endsAt - warningMs, check);
    } else {
      check();
    }
  }

  dialog.querySelector("[data-timeout-extend]").addEventListener("click", extend);
  dialog.querySelector("[data-timeout-close]").addEventListener("click", closeDialog);
  dialog.addEventListener("cancel", (event) => {
    // Escape in the warning means "stay signed in", as the button does.
    event.preventDefault();
    if (warningPart.hidden) closeDialog();
    else extend();
  });
  // Timers in a hidden tab may run late: look again as soon as the tab is shown.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && Date.now() >= endsAt - warningMs) check();
  });
  at(endsAt - warningMs, check);
}

const sessionTimeout = document.querySelector("[data-session-timeout]");
if (sessionTimeout && typeof sessionTimeout.showModal === "function") setUpSessionTimeout(sessionTimeout);
