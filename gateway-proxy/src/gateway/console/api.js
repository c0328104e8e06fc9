// The console's calls on the platform's public v0 API, and what its refusals mean in words a
// person understands (the codes are the API's; the sentences are for people).

export class Refusal extends Error {
  constructor(status, code, details) {
    super(details || code);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// What the view on screen waits for. Leaving a view abandons it, so a view that is gone
// stops at its next call rather than running on over the one that replaced it.
let shown = new AbortController();

export function leaveView() {
  shown.abort();
  shown = new AbortController();
}

// What a browser-side wait of the view on screen (a passkey prompt) is abandoned by.
export function viewSignal() {
  return shown.signal;
}

export function abandoned(error) {
  return error?.name === "AbortError";
}

export async function call(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {}, signal: shown.signal };
  if (body instanceof FormData) {
    options.body = body;  // multipart: the browser writes its own Content-Type
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 204) return { status: 204, data: null };
  const data = await response.json().catch(() => null);
  if (response.ok) return { status: response.status, data };
  throw new Refusal(response.status, data?.code ?? "system:unknown", data?.details ?? "");
}

const WORDS = {
  "auth:invalid_credentials": "That email and password do not match an account. Check both, or reset the password.",
  "user:email_already_exists": "An account already uses this email address. Sign in to it instead.",
  "user:handle_already_exists": "Someone already has this handle; choose another.",
  "totp:invalid_code": "That code is wrong or was used already. Type the newest code from your app.",
  "totp:temp_token_invalid": "This sign-in took too long. Sign in with your password again.",
  "totp:backup_code_exhausted": "No backup codes are left; use a code from your authenticator app.",
  "user:invalid_password": "The current password is wrong.",
  "session:not_found": "That session has ended already.",
  "email:not_verified": "Verify your email address first: open the link we mailed you.",
  "totp:already_enabled": "Two-factor authentication is on already.",
  "oauth:email_already_exists": "An account with this email exists here already. Sign in with its password, then link the provider from your account.",
  "oauth:account_already_linked": "That account is linked to another Tessera account already.",
  "oauth:invalid_state": "This sign-in took too long or was opened elsewhere. Start again from this page.",
  "oauth:email_not_verified": "The provider has no verified email address for you; verify one there first.",
  "oauth:provider_unavailable": "The provider could not be reached; try again in a moment.",
  "oauth:cannot_unlink_last_connection": "This is your last way to sign in. Set a password first (Forgot your password? mails a link), then unlink.",
  "user:token_expired": "The sign-up took longer than 10 minutes. Sign in with the provider again.",
  "token:invalid_verification": "This link is invalid, used or expired. Sign in and mail yourself a new one from your account.",
  "token:invalid_reset": "This link is invalid, used or expired. Ask for a new one with “Forgot your password?” on the sign-in page.",
  "token:invalid_email_change": "This link is invalid, used or expired. Ask for the change again from your account.",
  "token:invalid_email_change_report": "This link is invalid, used or expired. If someone else took your account, contact whoever runs this Tessera.",
  "token:email_mismatch": "Your email address changed after this link was sent. Use the newest mail.",
  "email:already_verified": "Your email address is verified already. Nothing more to do.",
  "passkey:invalid_challenge": "This passkey request took too long or was started in another tab. Try again.",
  "passkey:invalid_assertion": "That passkey could not be checked. Try again, or sign in with your password.",
  "passkey:unknown_credential": "That passkey is not registered here (it may have been removed). Sign in with your password, or use another passkey.",
  "passkey:sign_count_regressed": "That passkey looks copied, so it was refused. Sign in another way and remove it from your account.",
  "passkey:invalid_registration": "Your device's answer could not be checked. Try again, or use another device.",
  "passkey:already_registered": "This device holds a passkey for this site already.",
  "passkey:limit_reached": "Your account has the most passkeys it may have. Remove one first.",
  "passkey:cannot_delete_last_credential": "This passkey is your last way to sign in. Set a password first (“Forgot your password?” mails a link), then remove it.",
  "passkey:none_registered": "Your account has no passkey; type a code instead.",
  "file:read_error": "That file is too large.",
  "system:payload_too_large": "That file is too large.",
  "system:service_unavailable": "Tessera is not answering right now; try again in a moment.",
  "system:gateway_timeout": "Tessera took too long to answer; try again in a moment.",
};

// The sentence for a refusal: ours for the codes people meet, else the API's own.
export function words(refusal) {
  return WORDS[refusal.code] ?? (refusal.details || "Something went wrong; please try again.");
}

// A refusal of one field ("password: must be 8 to 200 characters."), as {field, text}.
export function fieldOf(refusal) {
  const found = /^(\w+): (.+)$/.exec(refusal.details ?? "");
  if (!found || !refusal.code.startsWith("general:")) return null;
  return { field: found[1], text: found[2].charAt(0).toUpperCase() + found[2].slice(1) };
}
