// Tessera's account console: one page whose views are <template>s in index.html, shown by
// the address bar's path, speaking only the public v0 API.
import { Refusal, abandoned, call, fieldOf, leaveView, viewSignal, words } from "./api.js";

const view = document.getElementById("view");
const status = document.getElementById("status");
const nav = document.getElementById("nav");

const UNREACHABLE = "Tessera could not be reached; check the connection and try again.";
const ROUTES = {
  "/": home, "/signin": signIn, "/signup": signUp, "/forgot-password": forgot,
  "/account": account, "/people": people, "/activity": activity,
  "/oauth/google/callback": callback, "/oauth/github/callback": callback,
  "/verify-email": mailedLink, "/confirm-email-change": mailedLink,
  "/report-email-change": mailedLink, "/reset-password": resetPassword,
};
const PROVIDERS = { google: "Google", github: "GitHub" };
const FLOW = "tessera.oauth.flow";  // what the provider's answer is for: login or link

// Whether the person moved within the page: then the new view takes the focus (so a screen
// reader reads it); on a fresh load it stays at the top, before the skip link.
let moved = false;

function show(template, title) {
  view.replaceChildren(document.getElementById(template).content.cloneNode(true));
  document.title = `${title} · Tessera`;
  if (moved) view.focus();
}

function say(text) {
  status.textContent = text;
}

function go(path, { replace = false } = {}) {
  moved = true;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  return route();
}

// The one live stream a view may hold open (the activity feed, the security log).
let stream = null;

function listen(path, onEntry) {
  stream?.close();
  stream = new EventSource(path);
  stream.addEventListener("action_log", (event) => onEntry(JSON.parse(event.data)));
}

function viewOf(path) {
  return path.startsWith("/u/") ? person : ROUTES[path];
}

async function route() {
  leaveView();
  stream?.close();
  stream = null;
  const page = viewOf(location.pathname) ?? home;
  try {
    await page();
  } catch (error) {
    sayFailure(error);
  }
}

// What a failed call means to the person, unless its view was left meanwhile: then the
// view on screen is another's, and nothing is said over it.
function sayFailure(error) {
  if (!abandoned(error)) say(error instanceof Refusal ? words(error) : UNREACHABLE);
}

async function signedInUser() {
  try {
    return (await call("GET", "/v0/user/me")).data;
  } catch (error) {
    if (error instanceof Refusal && error.status === 401) return null;
    throw error;
  }
}

function link(path, text) {
  const a = document.createElement("a");
  a.href = path;
  a.textContent = text;
  return a;
}

function showNav(user) {
  const everyone = [link("/people", "People"), link("/activity", "Activity")];
  if (!user) {
    nav.replaceChildren(...everyone, link("/signin", "Sign in"));
    return;
  }
  const signOut = document.createElement("button");
  signOut.type = "button";
  signOut.className = "quiet";
  signOut.textContent = "Sign out";
  signOut.addEventListener("click", async () => {
    await call("POST", "/v0/auth/logout").catch(() => null);
    await go("/signin", { replace: true });
    say("You are signed out.");
  });
  nav.replaceChildren(...everyone, link("/account", user.handle), signOut);
}

// Submitting `form` runs `send` with its fields; the button says it is busy meanwhile, and
// a refusal is shown beside the field it is about (or above the button).
function onSubmit(form, send) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter ?? form.querySelector("button[type=submit]");
    clearErrors(form);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await send(fieldsOf(form), event.submitter);
    } catch (error) {
      if (error instanceof Refusal) showRefusal(form, error);
      else form.querySelector(".form-error").textContent = UNREACHABLE;
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
}

function fieldsOf(form) {
  const fields = {};
  for (const input of form.elements) {
    if (!input.name) continue;
    fields[input.name] = input.type === "checkbox" ? input.checked : input.value;
  }
  return fields;
}

function clearErrors(form) {
  for (const message of form.querySelectorAll(".field-error, .form-error")) {
    message.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}

function showRefusal(form, refusal) {
  const about = fieldOf(refusal);
  if (about && showFieldError(form, about.field, about.text)) return;
  form.querySelector(".form-error").textContent = words(refusal);
}

// Say `text` beside the field `name` of `form`, if it has one with a place for errors (the
// element `<input id>-error`, which the input names in its aria-describedby).
function showFieldError(form, name, text) {
  const input = form.elements[name];
  const message = input && document.getElementById(`${input.id}-error`);
  if (!message) return false;
  message.textContent = text;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  return true;
}

async function home() {
  const user = await signedInUser();
  if (user) return go("/account", { replace: true });
  const everyone = (await call("GET", "/v0/search/users?page=1&page_size=1")).data;
  if (everyone.total_hits > 0) return go("/signin", { replace: true });
  showNav(null);
  show("welcome", "Welcome");
}

async function signIn() {
  showNav(null);
  show("signin", "Sign in");
  // The form is ours before anything is awaited: never a native submit of the password.
  onSubmit(view.querySelector("form"), async (fields) => {
    const answer = await call("POST", "/v0/auth/login", {
      email: fields.email, password: fields.password, remember_me: fields.remember_me });
    if (answer.status === 202) return secondFactor(answer.data.temp_token);
    await go("/account", { replace: true });
  });
  await offerProviders("[data-provider]", "provider", "login");
  await offerPasskeys(view.querySelector("form"));
}

// Show the buttons (`selector`, naming their provider in `data-<attribute>`) of the providers
// this platform has, each starting a `flow` there.
async function offerProviders(selector, attribute, flow) {
  const { providers } = (await call("GET", "/v0/auth/oauth/providers")).data;
  for (const button of view.querySelectorAll(selector)) {
    const name = button.dataset[attribute];
    button.hidden = !providers.includes(name);
    button.addEventListener("click", async () => {
      try {
        const { auth_url: url } = (await call(
          "GET", `/v0/auth/oauth/${name}/authorize?flow=${flow}`)).data;
        sessionStorage.setItem(FLOW, flow);
        location.assign(url);
      } catch (error) {
        sayFailure(error);
      }
    });
  }
}

// The provider sent the browser back: finish signing in (or linking) with its code.
async function callback() {
  const provider = location.pathname.split("/")[2];
  const answer = new URLSearchParams(location.search);
  history.replaceState(null, "", location.pathname);  // the code is not for the history
  const flow = sessionStorage.getItem(FLOW) ?? "login";
  sessionStorage.removeItem(FLOW);
  showNav(null);
  show("callback", `${PROVIDERS[provider]} sign-in`);
  const back = flow === "link" ? "/account" : "/signin";
  if (!answer.get("code")) {
    await go(back, { replace: true });
    return say(`${PROVIDERS[provider]} did not let you in; nothing changed.`);
  }
  const body = { code: answer.get("code"), state: answer.get("state") ?? "" };
  let outcome;
  try {
    outcome = await call("POST", `/v0/auth/oauth/${provider}/${flow}`, body);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    await go(back, { replace: true });
    return say(words(error));
  }
  if (flow === "link") {
    await go("/account", { replace: true });
    return say(`${PROVIDERS[provider]} is linked: it signs you in too.`);
  }
  if (outcome.status === 202) return secondFactor(outcome.data.temp_token);
  if (outcome.status === 200) return completeSignUp(outcome.data);
  await go("/account", { replace: true });
}

function completeSignUp(pending) {
  show("complete-signup", "Choose your handle");
  view.querySelector("[data-slot=display_name]").textContent = pending.display_name;
  view.querySelector("[data-slot=email]").textContent = pending.email;
  const input = view.querySelector("#complete-handle");
  const state = view.querySelector("#complete-handle-state");
  let asked = 0;
  input.addEventListener("input", () => {
    const handle = input.value.trim();
    const mine = ++asked;
    state.textContent = "";
    if (handle.length < 3) return;
    setTimeout(async () => {
      if (mine !== asked) return;  // typed on since: only the newest is asked about
      const { available } = (await call(
        "GET", `/v0/users/handle/${encodeURIComponent(handle)}/available`)).data;
      if (mine === asked) state.textContent = available ? "Available" : "Someone has this handle";
    }, 300);
  });
  onSubmit(view.querySelector("form"), async ({ handle }) => {
    await call("POST", "/v0/auth/complete-signup",
      { pending_token: pending.pending_token, handle });
    await go("/account", { replace: true });
    say("Your account is ready.");
  });
}

// The second step of a sign-in; `byPasskey`: a passkey was its first step, so only a code
// can be the second.
function secondFactor(tempToken, { byPasskey = false } = {}) {
  leaveView();  // the sign-in view's requests, the autofill's passkey request among them
  show("second-factor", "Two-factor authentication");
  if (!byPasskey) offerPasskeyStep(view.querySelector("form"), tempToken);
  onSubmit(view.querySelector("form"), (fields) => finishSecondStep(
    () => call("POST", "/v0/auth/totp/verify", { temp_token: tempToken, code: fields.code })));
}

// Send the second step's answer. The step is spent by any answer, a wrong code too: refused,
// the sign-in starts again from the password.
async function finishSecondStep(send) {
  try {
    await send();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    await go("/signin", { replace: true });
    say(`${words(error)} Sign in again to get a new try.`);
    return;
  }
  await go("/account", { replace: true });
}

// The links Tessera mails carry a single-use token for one v0 call, made as the page opens.
const MAILED = {
  "/verify-email": {
    title: "Verify your email", done: "Your email address is verified.",
    next: ["/account", "Go to your account"], dead: "token:invalid_verification",
  },
  "/confirm-email-change": {
    title: "Confirm your new address", done: "Your account uses this address from now on.",
    next: ["/account", "Go to your account"], dead: "token:invalid_email_change",
  },
  "/report-email-change": {
    title: "Undo the email change",
    done: "Your account is back on this address and every session is signed out. Choose a " +
      "new password now: whoever changed the address may know the old one.",
    next: ["/forgot-password", "Choose a new password"], dead: "token:invalid_email_change_report",
  },
  "/reset-password": { title: "Choose a new password", dead: "token:invalid_reset" },
};
const NO_TOKEN = "This link has no token. Open the link from the mail exactly as it was sent.";

// The link's token, taken out of the address bar and the history first: it is a secret.
function tokenOfLink() {
  const token = new URLSearchParams(location.search).get("token");
  history.replaceState(null, "", location.pathname);
  return token;
}

// What a link's refusal means to the person who opened it: a token cut short in the copy, or
// one whose account is gone, is a link that no longer works; a taken address is no account
// of theirs to sign in to.
function linkRefusal(flow, refusal) {
  if (refusal.code === "user:email_already_exists") {
    return "Another account uses that address now, so the change cannot be made.";
  }
  const dead = refusal.code === "user:not_found" || fieldOf(refusal)?.field === "token";
  return words(dead ? { code: flow.dead } : refusal);
}

// The view of a link: its title, and a status line that says what became of it.
function showLink(flow) {
  show("mailed-link", flow.title);
  view.querySelector("[data-slot=title]").textContent = flow.title;
  return view.querySelector("[data-slot=outcome]");
}

async function mailedLink() {
  const path = location.pathname;  // before any wait: the person may move on meanwhile
  const flow = MAILED[path];
  const token = tokenOfLink();
  showNav(await signedInUser());
  const outcome = showLink(flow);
  if (!token) {
    outcome.textContent = NO_TOKEN;
    return;
  }
  try {
    await call("POST", `/v0/auth${path}`, { token });
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    outcome.textContent = linkRefusal(flow, error);
    return;
  }
  outcome.textContent = flow.done;
  const next = view.querySelector("[data-slot=next]");
  const [target, text] = flow.next;
  Object.assign(next.firstElementChild, { href: target, textContent: text });
  next.hidden = false;
  // Undoing an email change signed every session out, so the header may change; the link
  // has done its work even if this cannot be learnt.
  showNav(await signedInUser().catch(() => null));
}

async function resetPassword() {
  const flow = MAILED["/reset-password"];
  const token = tokenOfLink();
  showNav(null);
  if (!token) {
    showLink(flow).textContent = NO_TOKEN;
    return;
  }
  show("reset-password", flow.title);
  const form = view.querySelector("form");
  onSubmit(form, async ({ new_password: password, repeat }) => {
    if (password !== repeat) {
      showFieldError(form, "repeat", "The two passwords differ; type the same one twice.");
      return;
    }
    try {
      await call("POST", "/v0/auth/reset-password", { token, new_password: password });
    } catch (error) {
      if (!(error instanceof Refusal) || fieldOf(error)?.field === "new_password") throw error;
      form.querySelector(".form-error").textContent = linkRefusal(flow, error);
      return;
    }
    await go("/signin", { replace: true });
    say("Your password is changed and every session was signed out. Sign in with the new one.");
  });
}

async function signUp() {
  showNav(null);
  show("signup", "Create an account");
  onSubmit(view.querySelector("form"), async (fields) => {
    await call("POST", "/v0/users", fields);
    show("signed-up", "Check your mail");
    view.querySelector("[data-slot=email]").textContent = fields.email;
  });
}

async function forgot() {
  showNav(null);
  show("forgot", "Forgot your password?");
  const form = view.querySelector("form");
  onSubmit(form, async (fields) => {
    await call("POST", "/v0/auth/forgot-password", { email: fields.email });
    // The same words whether or not an account has the address: nobody learns who is here.
    say(`If an account uses ${fields.email}, a link to choose a new password is on its way.`);
    form.reset();
  });
}

async function account() {
  const user = await signedInUser();
  if (!user) return go("/signin", { replace: true });
  showNav(user);
  show("account", "Your account");
  for (const slot of ["handle", "email"]) {
    view.querySelector(`[data-slot=${slot}]`).textContent = user[slot];
  }
  view.querySelector("[data-slot=verified]").textContent = user.is_verified
    ? "Verified" : "Not verified yet: open the link we mailed you.";
  const resend = view.querySelector("#resend");
  resend.hidden = user.is_verified;
  resend.addEventListener("click", async () => {
    resend.disabled = true;
    try {
      await call("POST", "/v0/auth/resend-verification-email");
      // The platform mails a few links an hour at most, and says nothing when it holds one.
      say(`A new link is on its way to ${user.email}. Nothing yet? Look in the spam ` +
        "folder; a few links an hour at most are sent.");
    } catch (error) {
      resend.disabled = false;
      sayFailure(error);
    }
  });

  const profile = view.querySelector("#profile");
  profile.elements.display_name.value = user.display_name;
  profile.elements.bio.value = user.bio ?? "";
  onSubmit(profile, async (fields) => {
    // v0 keeps a bio once set: an empty field leaves it as it is.
    await call("PATCH", "/v0/user/me", {
      display_name: fields.display_name, bio: fields.bio.trim() ? fields.bio : null });
    say("Your profile is saved.");
  });

  showPicture("#avatar-preview", user.profile_image);
  showPicture("#banner-preview", user.banner_image);
  for (const input of view.querySelectorAll("input.file")) {
    input.addEventListener("change", () => upload(input));
  }

  const email = view.querySelector("#email");
  onSubmit(email, async (fields) => {
    if (!(await withRecentSignIn(() => call("POST", "/v0/auth/change-email", fields)))) return;
    email.reset();
    say(`We mailed a link to ${fields.new_email}: the account moves there when you open it.`);
  });

  const password = view.querySelector("#password");
  onSubmit(password, async (fields) => {
    if (!(await withRecentSignIn(() => call("POST", "/v0/auth/change-password", fields)))) {
      return;
    }
    password.reset();
    say("Your password is changed, and every other session is signed out.");
    await listSessions();
  });

  offerPasskeyAdding(view.querySelector("#passkey-add"));  // before any wait: a click is ours
  await offerProviders("[data-link]", "link", "link");
  await listConnections();
  await twoFactor();
  await listPasskeys();
  await showLog("#security-log", `user_id=${user.id}`, { addresses: true });
  const deletion = view.querySelector("#delete");
  onSubmit(deletion, async ({ secret }) => {
    const status = (await call("GET", "/v0/auth/totp/status")).data;
    const body = status.enabled ? { code: secret } : { password: secret };
    if (!(await withRecentSignIn(() => call("DELETE", "/v0/user/me", body)))) return;
    await go("/", { replace: true });
    say("Your account is deleted.");
  });

  view.querySelector("#end-others").addEventListener("click", async () => {
    await act(() => call("POST", "/v0/auth/sessions/revoke-others"),
      "Every other session is signed out.");
  });
  await listSessions();
}

const PAGE_SIZE = 10;

async function people() {
  showNav(await signedInUser());
  show("people", "People");
  const search = new URLSearchParams(location.search);
  const query = search.get("query") ?? "";
  const pageNumber = Math.max(1, Number(search.get("page")) || 1);
  const form = view.querySelector("form");
  form.elements.query.value = query;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const asked = form.elements.query.value.trim();
    go(asked ? `/people?${new URLSearchParams({ query: asked })}` : "/people");
  });
  const params = new URLSearchParams({ page: pageNumber, page_size: PAGE_SIZE });
  if (query) params.set("query", query);
  const found = (await call("GET", `/v0/search/users?${params}`)).data;
  view.querySelector("#people-count").textContent = found.total_hits === 1
    ? "One person" : `${found.total_hits} people`;
  view.querySelector("#people-list").replaceChildren(...found.users.map((user) => {
    const item = document.createElement("li");
    item.append(link(`/u/${encodeURIComponent(user.handle)}`, user.display_name),
      ` @${user.handle}`);
    return item;
  }));
  const page = (number) => `/people?${new URLSearchParams(
    query ? { query, page: number } : { page: number })}`;
  const newer = view.querySelector("[data-slot=newer]");
  const older = view.querySelector("[data-slot=older]");
  newer.disabled = pageNumber <= 1;
  older.disabled = pageNumber >= found.total_pages;
  newer.addEventListener("click", () => go(page(pageNumber - 1)));
  older.addEventListener("click", () => go(page(pageNumber + 1)));
}

async function person() {
  const handle = decodeURIComponent(location.pathname.slice(3));
  const viewer = await signedInUser();
  showNav(viewer);
  let shown;
  try {
    shown = (await call("GET", `/v0/users/profile?${new URLSearchParams({ handle })}`)).data;
  } catch (error) {
    if (!(error instanceof Refusal && error.status === 404)) throw error;
    show("person", "Nobody");
    view.querySelector("[data-slot=display_name]").textContent = "Nobody has this handle";
    return;
  }
  show("person", shown.display_name);
  for (const slot of ["display_name", "handle", "bio"]) {
    view.querySelector(`[data-slot=${slot}]`).textContent = shown[slot] ?? "";
  }
  const showCounts = (profile) => {
    const followers = profile.followers_count;
    view.querySelector("[data-slot=counts]").textContent =
      `${followers} ${followers === 1 ? "follower" : "followers"} · ` +
      `${profile.following_count} following`;
  };
  showCounts(shown);
  if (!viewer || viewer.id === shown.id) return;
  const button = view.querySelector("#follow");
  const path = `/v0/users/${shown.id}/follow`;
  let following = (await call("GET", path)).data.following;
  const label = () => { button.textContent = following ? "Unfollow" : "Follow"; };
  label();
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await call(following ? "DELETE" : "POST", path);
      following = !following;
      label();
      showCounts((await call("GET", `/v0/users/profile/id?user_id=${shown.id}`)).data);
      say(following ? `You follow ${shown.display_name}.`
        : `You no longer follow ${shown.display_name}.`);
    } catch (error) {
      sayFailure(error);
    }
  });
}

async function activity() {
  showNav(await signedInUser());
  show("activity", "Activity");
  await showLog("#activity-log", "");
}

// The newest entries of the action log (`filter`: its query), then each new one as it
// happens; `addresses`: the viewer's own entries, shown with where they came from.
async function showLog(selector, filter, { addresses = false } = {}) {
  const list = view.querySelector(selector);
  const entry = (record) => {
    const item = document.getElementById("entry").content.cloneNode(true);
    item.querySelector("[data-slot=summary]").textContent = record.summary;
    const when = new Date(record.created_at).toLocaleString();
    item.querySelector("[data-slot=when]").textContent =
      addresses && record.actor_ip ? `${when}, from ${addressOf(record.actor_ip)}` : when;
    return item;
  };
  const query = filter ? `${filter}&` : "";
  const { data } = (await call("GET", `/v0/action-logs?${query}limit=20`)).data;
  const seen = new Set(data.map((record) => record.id));
  list.replaceChildren(...data.map(entry));
  listen(`/v0/eventstream/actions${filter ? `?${filter}` : ""}`, (record) => {
    if (seen.has(record.id)) return;  // listed already, when the stream opened
    seen.add(record.id);
    list.prepend(entry(record));
  });
}

// The two-factor section: its state, setting it up (QR code, confirming code, backup codes
// shown once), and, once on, new backup codes or turning it off.
async function twoFactor() {
  const $ = (selector) => view.querySelector(selector);
  $("#totp-start").addEventListener("click", async () => {
    try {
      let enrollment = null;
      const started = await withRecentSignIn(async () => {
        enrollment = (await call("POST", "/v0/auth/totp/setup")).data;
      });
      if (!started) return;
      $("#totp-qr").src = `data:image/png;base64,${enrollment.qr_code_base64}`;
      $("#totp-secret").textContent = new URL(enrollment.qr_code_uri).searchParams.get("secret");
      $("#totp-start").hidden = true;
      $("#totp-setup").hidden = false;
      $("#totp-enable-code").focus();
    } catch (error) {
      sayFailure(error);
    }
  });
  onSubmit($("#totp-enable"), async ({ code }) => {
    const { backup_codes: codes } = (await call("POST", "/v0/auth/totp/enable", { code })).data;
    $("#totp-setup").hidden = true;
    showBackupCodes(codes);
    say("Two-factor authentication is on.");
    await showTwoFactor();
  });
  onSubmit($("#totp-manage"), async ({ code }, submitter) => {
    if (submitter?.value === "disable") {
      if (!(await withRecentSignIn(() => call("POST", "/v0/auth/totp/disable", { code })))) return;
      say("Two-factor authentication is off.");
      $("#totp-codes").hidden = true;
    } else {
      let codes = null;
      const done = await withRecentSignIn(async () => {
        codes = (await call("POST", "/v0/auth/totp/backup-codes/regenerate", { code })).data;
      });
      if (!done) return;
      showBackupCodes(codes.backup_codes);
      say("New backup codes replace the old ones.");
    }
    $("#totp-manage").reset();
    await showTwoFactor();
  });
  await showTwoFactor();
}

async function showTwoFactor() {
  const status = (await call("GET", "/v0/auth/totp/status")).data;
  view.querySelector("[data-slot=totp-state]").textContent = status.enabled
    ? `On since ${new Date(status.enabled_at).toLocaleDateString()}; `
      + `${status.backup_codes_remaining} backup codes left.`
    : "Off: a password alone signs you in.";
  view.querySelector("#totp-start").hidden = status.enabled;
  view.querySelector("#totp-manage").hidden = !status.enabled;
}

function showBackupCodes(codes) {
  const list = view.querySelector("#totp-code-list");
  list.replaceChildren(...codes.map((code) => {
    const item = document.createElement("li");
    item.textContent = code;
    return item;
  }));
  const download = view.querySelector("#totp-download");
  const text = `${codes.join("\n")}\n`;
  download.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  view.querySelector("#totp-copy").onclick = async () => {
    try {
      await navigator.clipboard.writeText(text);
      say("The backup codes are copied.");
    } catch {
      say("This browser would not let us copy; download the codes instead.");
    }
  };
  view.querySelector("#totp-codes").hidden = false;
}

function showPicture(selector, url) {
  const image = view.querySelector(selector);
  image.hidden = !url;
  if (url) image.src = url;
}

// A picture for the profile or banner slot: previewed at once, then sent; the platform fits
// it (never crops) and answers its address.
async function upload(input) {
  const [file] = input.files;
  if (!file) return;
  const preview = view.querySelector(
    input.dataset.slot === "profile-image" ? "#avatar-preview" : "#banner-preview");
  const before = preview.src;
  const chosen = URL.createObjectURL(file);
  showPicture(`#${preview.id}`, chosen);
  const form = new FormData();
  form.append("file", file);
  try {
    const { image_url: url } = (await call("POST", `/v0/user/me/${input.dataset.slot}`, form)).data;
    showPicture(`#${preview.id}`, url);
    say(input.dataset.slot === "profile-image" ? "Your profile picture is saved."
      : "Your banner is saved.");
  } catch (error) {
    showPicture(`#${preview.id}`, before);
    sayFailure(error);
  } finally {
    URL.revokeObjectURL(chosen);  // the preview now shows the saved picture, or the old one
    input.value = "";
  }
}

// Passkeys: the browser makes and uses them (WebAuthn), and reads and writes the JSON form
// of their options and answers itself (parse...OptionsFromJSON, toJSON).
const passkeysWork = Boolean(window.PublicKeyCredential?.parseRequestOptionsFromJSON &&
  AbortSignal.any);

// What the browser's refusal of a passkey request means to a person; null when the console
// withdrew the request itself (the view changed, or the button replaced the autofill's).
function passkeyTrouble(error, rpId) {
  if (error.name === "AbortError") return null;
  if (error.name === "SecurityError") {
    const port = location.port ? `:${location.port}` : "";
    return `Passkeys of this Tessera belong to ${rpId}: open this page at ` +
      `${location.protocol}//${rpId}${port} to use them.`;
  }
  if (error.name === "InvalidStateError") return "This device holds a passkey for this site already.";
  return "No passkey was used. Try again when you are ready, or sign in another way.";
}

// Sign in with a passkey: from the button, or picked in the email field's autofill. The
// autofill's request waits until the person picks one, the view changes or the button
// replaces it; its challenge does not wait as long, so it is renewed before it runs out.
async function offerPasskeys(form) {
  if (!passkeysWork) return;
  const button = view.querySelector("#passkey-signin");
  const error = form.querySelector(".form-error");
  const autofill = await PublicKeyCredential.isConditionalMediationAvailable?.();
  button.hidden = false;
  let waiting = null;
  let renewal = 0;
  const left = viewSignal();
  left.addEventListener("abort", () => clearTimeout(renewal));
  const signInWith = async (mediation) => {
    waiting?.abort();  // one request at a time
    clearTimeout(renewal);
    waiting = new AbortController();
    const signal = AbortSignal.any([left, waiting.signal]);
    const { data: options } = await call("POST", "/v0/auth/login/passkey/options", {});
    if (signal.aborted) return;  // replaced while its options were on their way
    if (mediation === "conditional") {
      renewal = setTimeout(() => signInWith(mediation).catch(failed), options.timeout * 0.9);
    }
    let credential;
    try {
      credential = await navigator.credentials.get({
        mediation, signal, publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    } catch (refused) {
      clearTimeout(renewal);  // a request the browser refused is not renewed
      error.textContent = passkeyTrouble(refused, options.rpId) ?? error.textContent;
      // after the button's request, the autofill offers passkeys again
      if (mediation !== "conditional" && autofill && !left.aborted) {
        signInWith("conditional").catch(failed);
      }
      return;
    }
    clearTimeout(renewal);
    const answer = await call("POST", "/v0/auth/login/passkey", {
      credential: credential.toJSON(), remember_me: form.elements.remember_me.checked });
    if (answer.status === 202) return secondFactor(answer.data.temp_token, { byPasskey: true });
    await go("/account", { replace: true });
  };
  const failed = (refusal) => {
    if (abandoned(refusal)) return;
    error.textContent = refusal instanceof Refusal ? words(refusal) : UNREACHABLE;
  };
  button.addEventListener("click", () => {
    clearErrors(form);
    signInWith("optional").catch(failed);
  });
  if (autofill) signInWith("conditional").catch(failed);
}

// A passkey of the account finishes a password sign-in instead of the code.
function offerPasskeyStep(form, tempToken) {
  if (!passkeysWork) return;
  const button = view.querySelector("#passkey-second-factor");
  const error = form.querySelector(".form-error");
  button.hidden = false;
  button.addEventListener("click", async () => {
    clearErrors(form);
    try {
      const { data: options } = await call("POST", "/v0/auth/login/passkey/options",
        { temp_token: tempToken });
      let credential;
      try {
        credential = await navigator.credentials.get({
          signal: viewSignal(), publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      } catch (refused) {
        error.textContent = passkeyTrouble(refused, options.rpId) ?? "";
        return;
      }
      await finishSecondStep(() => call("POST", "/v0/auth/login/passkey",
        { credential: credential.toJSON(), temp_token: tempToken }));
    } catch (refusal) {
      if (!abandoned(refusal)) {
        error.textContent = refusal instanceof Refusal ? words(refusal) : UNREACHABLE;
      }
    }
  });
}

// Adding a passkey, in the account's passkeys section.
function offerPasskeyAdding(form) {
  if (!passkeysWork) {
    form.querySelector("button").disabled = true;
    form.querySelector(".form-error").textContent =
      "This browser cannot make passkeys; a recent Chrome, Edge, Firefox or Safari can.";
  }
  onSubmit(form, async ({ name }) => {
    let options = null;
    const asked = await withRecentSignIn(async () => {
      options = (await call("POST", "/v0/auth/passkeys/options")).data;
    });
    if (!asked) return;
    let credential;
    try {
      credential = await navigator.credentials.create({
        signal: viewSignal(), publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    } catch (refused) {
      const trouble = passkeyTrouble(refused, options.rp.id);
      if (trouble) form.querySelector(".form-error").textContent = trouble;
      return;
    }
    const named = name.trim() ? { name: name.trim() } : {};
    const added = (await call("POST", "/v0/auth/passkeys",
      { credential: credential.toJSON(), ...named })).data;
    form.reset();
    say(`The passkey “${added.name}” is added: it signs you in from now on.`);
    await listPasskeys().catch(sayFailure);
  });
}

// The account's passkeys, each renamed in place or removed.
async function listPasskeys() {
  const list = view.querySelector("#passkeys");
  const { passkeys: mine } = (await call("GET", "/v0/auth/passkeys")).data;
  list.replaceChildren(...mine.map((passkey) => {
    const item = document.getElementById("passkey").content.cloneNode(true);
    const input = item.querySelector("[data-slot=name]");
    input.id = `passkey-${passkey.id}`;
    input.value = passkey.name;
    item.querySelector("[data-slot=label]").htmlFor = input.id;
    const used = passkey.last_used_at
      ? `last used ${new Date(passkey.last_used_at).toLocaleString()}` : "not used yet";
    item.querySelector("[data-slot=since]").textContent =
      `Added ${new Date(passkey.created_at).toLocaleDateString()}, ${used}` +
      (passkey.backup_eligible ? "; synced across your devices" : "");
    onSubmit(item.querySelector("form"), async ({ name }) => {
      const renamed = (await call("PATCH", `/v0/auth/passkeys/${passkey.id}`, { name })).data;
      say(`The passkey is now called “${renamed.name}”.`);
    });
    item.querySelector("[data-slot=remove]").addEventListener("click", async () => {
      await act(() => call("DELETE", `/v0/auth/passkeys/${passkey.id}`),
        `The passkey “${passkey.name}” is removed.`);
      await listPasskeys().catch(sayFailure);
    });
    return item;
  }));
}

// Run a change that may need a recent sign-in, then say `done` and show the sessions again.
async function act(change, done) {
  try {
    if (await withRecentSignIn(change)) say(done);
  } catch (error) {
    sayFailure(error);
  }
  await listSessions().catch(sayFailure);
}

async function listConnections() {
  const list = view.querySelector("#linked");
  const { connections } = (await call("GET", "/v0/auth/oauth/connections")).data;
  list.replaceChildren(...connections.map((connection) => {
    const item = document.getElementById("connection").content.cloneNode(true);
    const label = connection.provider === "Github" ? "GitHub" : connection.provider;
    item.querySelector("[data-slot=provider]").textContent = label;
    item.querySelector("[data-slot=since]").textContent =
      `linked ${new Date(connection.created_at).toLocaleDateString()}`;
    item.querySelector("[data-slot=unlink]").addEventListener("click", async () => {
      await act(() => call("POST", "/v0/auth/oauth/connections/unlink",
        { provider: connection.provider }), `${label} is unlinked.`);
      await listConnections().catch(sayFailure);
    });
    return item;
  }));
}

// People know their devices by browser and system, not by the user-agent string.
// The first mark found names it: Edge and Chrome on iOS also say "Safari/", Android "Linux".
const BROWSERS = [["Edg", "Edge"], ["Firefox/", "Firefox"], ["FxiOS/", "Firefox"],
  ["CriOS/", "Chrome"], ["Chrome/", "Chrome"], ["Safari/", "Safari"]];
const SYSTEMS = [["Android", "Android"], ["iPhone", "an iPhone"], ["iPad", "an iPad"],
  ["Windows", "Windows"], ["Mac OS X", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]];

function deviceOf(agent) {
  if (!agent) return "An unnamed device";
  const named = (names) => names.find(([mark]) => agent.includes(mark))?.[1];
  const [browser, system] = [named(BROWSERS), named(SYSTEMS)];
  return browser && system ? `${browser} on ${system}` : agent;
}

// Addresses may come as PostgreSQL writes them ("203.0.113.7/32"), as the original API's
// action log gives them; a person reads the address alone.
function addressOf(ip) {
  return ip.replace(/\/(32|128)$/, "");
}

async function listSessions() {
  const list = view.querySelector("#sessions");
  if (!list) return;
  const { sessions } = (await call("GET", "/v0/auth/sessions")).data;
  list.replaceChildren(...sessions.map((session) => {
    const item = document.getElementById("session").content.cloneNode(true);
    const seen = new Date(session.last_seen_at).toLocaleString();
    const device = deviceOf(session.user_agent);
    item.querySelector("[data-slot=device]").textContent = !session.current ? device
      : `This browser${session.user_agent ? ` (${device})` : ""}`;
    item.querySelector("[data-slot=where]").textContent =
      `${addressOf(session.ip)}, last seen ${seen}`;
    const end = item.querySelector("[data-slot=end]");
    if (session.current) end.remove();
    else end.addEventListener("click", () => act(
      () => call("DELETE", `/v0/auth/sessions/${session.id}`), "That session is signed out."));
    return item;
  }));
}

// `change`, and if it asks for a recent sign-in, the password (and code) first, then again.
// False if the person cancels.
async function withRecentSignIn(change) {
  try {
    await change();
    return true;
  } catch (error) {
    if (!(error instanceof Refusal && error.code === "auth:reauthentication_required")) {
      throw error;
    }
  }
  if (!(await reauthenticate())) {
    say("Nothing changed.");
    return false;
  }
  await change();
  return true;
}

function reauthenticate() {
  const dialog = document.getElementById("reauthenticate");
  const form = dialog.querySelector("form");
  const cancel = form.querySelector("[data-slot=cancel]");
  form.reset();
  clearErrors(form);
  return new Promise((resolve) => {
    let confirmed = false;
    const submit = async (event) => {
      event.preventDefault();
      const fields = fieldsOf(form);
      try {
        await call("POST", "/v0/auth/reauthenticate",
          fields.code ? fields : { password: fields.password });
        confirmed = true;
        dialog.close();
      } catch (error) {
        form.querySelector(".form-error").textContent =
          error instanceof Refusal ? words(error) : UNREACHABLE;
      }
    };
    const dismiss = () => dialog.close();
    // Every way out (confirmed, Cancel, the Escape key) closes the dialog: it ends here.
    dialog.addEventListener("close", () => {
      form.removeEventListener("submit", submit);
      cancel.removeEventListener("click", dismiss);
      resolve(confirmed);
    }, { once: true });
    form.addEventListener("submit", submit);
    cancel.addEventListener("click", dismiss);
    dialog.showModal();
  });
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("a");
  if (target && target.origin === location.origin && viewOf(target.pathname)) {
    event.preventDefault();
    say("");
    go(target.pathname);
  }
});
window.addEventListener("popstate", route);
route();
