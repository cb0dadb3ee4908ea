import { api, problemText, setupLanguage, t } from "/i18n.js";
import { base32Decode, totp } from "/vendor/otp.js";
import { renderSVG } from "/vendor/uqr.js";

// DEMO authentication: replace with your app's session.
const AUTH = { "x-demo-beneficiary": "BEN-0001" };
const $ = (id) => document.getElementById(id);
let events = [];
let secret;
let timer;

function renderHistory() {
  const items = events.map((e) => {
    const li = document.createElement("li");
    const when = new Date(e.atMs).toLocaleString(document.documentElement.lang);
    const where = [e.guideId, e.channel?.toUpperCase(), e.maskedContact, e.reason]
      .filter(Boolean)
      .join(" · ");
    li.textContent = `${when} — ${t(`events.${e.type}`)}${where ? ` (${where})` : ""} `;
    li.dataset.type = e.type;
    if (e.type === "token.issued" && e.guideId) {
      const button = Object.assign(document.createElement("button"), {
        type: "button",
        className: "secondary",
        textContent: t("notMine"),
      });
      button.dataset.guide = e.guideId;
      button.setAttribute("aria-label", `${t("notMine")}: ${e.guideId}`);
      button.addEventListener("click", () => report(e.guideId));
      li.append(button);
    }
    return li;
  });
  $("history").replaceChildren(
    ...(items.length ? items : [Object.assign(document.createElement("li"), { textContent: t("empty") })]),
  );
}

async function refresh() {
  $("error").textContent = "";
  try {
    ({ events } = await api("/api/me/history", { headers: AUTH }));
    renderHistory();
  } catch (error) {
    $("error").textContent = problemText(error);
  }
}

async function report(guideId) {
  try {
    await api("/api/me/report-unrequested", { method: "POST", body: { guideId }, headers: AUTH });
    $("notice").textContent = t("reported", { guide: guideId });
    await refresh();
    $("history-h").setAttribute("tabindex", "-1");
    $("history-h").focus();
  } catch (error) {
    $("error").textContent = problemText(error);
  }
}

// The code is computed here, in the browser, by health-token/otp: the secret never goes back to the server.
function tick() {
  if (!secret) return;
  const now = Date.now();
  $("current-code").textContent = totp(secret, { timeMs: now });
  $("countdown").textContent = t("secondsLeft", { s: 30 - (Math.floor(now / 1000) % 30) });
}

async function enroll() {
  $("error").textContent = "";
  try {
    const enrollment = await api("/api/me/app/enroll", { method: "POST", body: {}, headers: AUTH });
    secret = base32Decode(enrollment.secret);
    $("qr").innerHTML = renderSVG(enrollment.otpauthUri);
    $("secret").textContent = enrollment.secret.replace(/(.{4})/g, "$1 ").trim();
    $("enrolled").hidden = false;
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    tick();
    await refresh();
  } catch (error) {
    $("error").textContent = problemText(error);
  }
}

setupLanguage($("lang"), () => {
  renderHistory();
  tick();
});
$("refresh").addEventListener("click", refresh);
$("enroll").addEventListener("click", enroll);
await refresh();
document.body.dataset.ready = "true";
