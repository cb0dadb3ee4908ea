import { api, problemText, setupLanguage, t } from "/i18n.js";

// DEMO authentication: replace with your portal's session.
const AUTH = { "x-demo-provider": "PRV-0001" };
const $ = (id) => document.getElementById(id);
let guideId = "";
let current;

const call = (path, options = {}) =>
  api(`/api/attendant/guides/${encodeURIComponent(guideId)}${path}`, { ...options, headers: AUTH });

function render() {
  if (!current) return;
  $("guide").hidden = false;
  $("state").textContent = t(`states.${current.state}`);
  $("state").dataset.state = current.state;
  $("tiss").textContent = JSON.stringify(current.tiss, null, 2);
  const done = !current.canConfirm;
  for (const id of ["send-form", "code-form", "without"]) $(id).hidden = done;
}

async function find(event) {
  event.preventDefault();
  $("find-error").textContent = "";
  $("error").textContent = "";
  $("result").textContent = "";
  guideId = $("guide-id").value.trim();
  try {
    current = await call("");
    const { contacts } = await call("/contacts");
    $("contacts").replaceChildren(
      ...contacts.map((c, i) => {
        const wrap = document.createElement("div");
        const input = Object.assign(document.createElement("input"), {
          type: "radio",
          name: "contact",
          id: `contact-${c.id}`,
          value: c.id,
          checked: i === 0,
        });
        const label = Object.assign(document.createElement("label"), {
          htmlFor: input.id,
          textContent: ` ${c.channel.toUpperCase()} ${c.masked}`,
        });
        wrap.append(input, label);
        return wrap;
      }),
    );
    render();
    $("guide-h").focus();
  } catch (error) {
    $("guide").hidden = true;
    $("find-error").textContent = problemText(error);
  }
}

async function refreshDelivery() {
  const status = await call("/delivery");
  $("delivery").textContent = t("statusOf", { status: t(`deliveryStates.${status.status}`) });
  $("delivery").dataset.status = status.status;
}

async function send(event) {
  event.preventDefault();
  $("error").textContent = "";
  try {
    const contactId = document.querySelector('input[name="contact"]:checked')?.value;
    const { issued, attendance } = await call("/token", {
      method: "POST",
      body: contactId ? { contactId } : {},
    });
    current = attendance;
    $("result").textContent = t("sentTo", { channel: issued.channel.toUpperCase(), to: issued.deliveredTo });
    await refreshDelivery();
    $("code").focus();
  } catch (error) {
    $("error").textContent = problemText(error);
  }
}

async function confirm(event) {
  event.preventDefault();
  $("error").textContent = "";
  try {
    const mode = $("from-app").checked ? "app" : "sent";
    current = await call("/confirm", { method: "POST", body: { code: $("code").value.trim(), mode } });
    $("result").textContent = t("confirmed");
    render();
    $("guide-h").focus();
  } catch (error) {
    $("error").textContent = problemText(error);
    $("code").select();
  }
}

async function confirmWithout(event) {
  event.preventDefault();
  $("error").textContent = "";
  try {
    current = await call("/confirm-without-token", {
      method: "POST",
      body: { absence: { reason: $("reason").value, justification: $("justification").value.trim() } },
    });
    $("result").textContent = t("confirmed");
    render();
    $("guide-h").focus();
  } catch (error) {
    $("error").textContent = problemText(error);
  }
}

setupLanguage($("lang"), render);
$("find-form").addEventListener("submit", find);
$("send-form").addEventListener("submit", send);
$("code-form").addEventListener("submit", confirm);
$("without-form").addEventListener("submit", confirmWithout);
$("refresh-delivery").addEventListener("click", () =>
  refreshDelivery().catch((e) => ($("error").textContent = problemText(e))),
);
document.body.dataset.ready = "true";
