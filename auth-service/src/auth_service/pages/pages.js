// The pages behind the links Tessera mails: they send the link's token to the v0 API and
// say, in plain words, what happened and what to do next.
"use strict";

const MESSAGES = {
  "token:invalid_verification": "This link is invalid, used or expired. Sign in and ask for a new verification mail.",
  "token:invalid_reset": "This link is invalid, used or expired. Ask for a new one from the sign-in page.",
  "token:invalid_email_change": "This link is invalid, used or expired. Ask for the change again from your account.",
  "token:email_mismatch": "Your email address changed after this link was sent. Use the newest mail.",
  "email:already_verified": "Your email address is verified already. Nothing more to do.",
  "user:email_already_exists": "Another account uses that address now, so the change cannot be made.",
  "token:invalid_email_change_report": "This link is invalid, used or expired. If your account was taken, contact the operator of this Tessera.",
};

const status = document.getElementById("status");
const say = (text) => { status.textContent = text; };

async function call(path, body) {
  const response = await fetch(`/v0/auth/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const error = await response.json().catch(() => ({}));
  return MESSAGES[error.code] || error.details || "Something went wrong; please try again.";
}

async function redeem(path, done) {
  const failure = await call(path, { token });
  say(failure || done);
}

function resetForm() {
  const form = document.getElementById("reset");
  form.hidden = false;
  say("Choose a new password: at least 8 characters. Long passphrases are welcome.");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = document.getElementById("password").value;
    if (password !== document.getElementById("repeat").value) {
      say("The two passwords differ; type the same one twice.");
      return;
    }
    const failure = await call("reset-password", { token, new_password: password });
    if (failure) { say(failure); return; }
    form.hidden = true;
    say("Your password is changed and every session was signed out. Sign in with the new one.");
  });
}

const token = new URLSearchParams(window.location.search).get("token");
// The token is a secret: keep it out of the history and of anything this page links to.
window.history.replaceState(null, "", window.location.pathname);

if (!token) {
  say("This link has no token. Open the link from the mail exactly as it was sent.");
} else if (document.body.dataset.flow === "verify") {
  redeem("verify-email", "Your email address is verified. You can close this page.");
} else if (document.body.dataset.flow === "confirm") {
  redeem("confirm-email-change", "Your account uses the new address from now on.");
} else if (document.body.dataset.flow === "report") {
  redeem("report-email-change", "Your account is back on this address and every session is signed out. Now reset your password with \u201cForgot password\u201d on the sign-in page.");
} else {
  resetForm();
}
