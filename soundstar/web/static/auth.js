/** Sign-in with an API key: checked with GET /api/v1/me, kept in localStorage. */

import { ApiError, apiKey, get, onUnauthorized } from "./api.js";
import { byId, resetControls } from "./dom.js";
import { clearHonesty } from "./notify.js";
import { emit, resetState, state } from "./state.js";
import { stream } from "./stream.js";

function showSignIn(message = "") {
  document.body.classList.remove("signed-in");
  byId("studio").hidden = true;
  byId("account").hidden = true;
  byId("signin").hidden = false;
  byId("signin-error").textContent = message;
  byId("api-key").focus();
}

function showStudio(user) {
  state.user = user;
  byId("account-name").textContent = user.name || "you";
  byId("account").hidden = false;
  byId("signin").hidden = true;
  byId("studio").hidden = false;
  document.body.classList.add("signed-in");
  emit("signed-in", user);
}

/** Check a key with the service; resolves to the user, or throws ApiError. */
async function check(key) {
  const me = await get("/api/v1/me", { key });
  return me.user || { name: "you" };
}

async function submit(event) {
  event.preventDefault();
  const input = byId("api-key");
  const key = input.value.trim();
  if (!key) {
    byId("signin-error").textContent = "Please paste your API key.";
    return;
  }
  const button = byId("signin-submit");
  button.disabled = true;
  byId("signin-error").textContent = "";
  try {
    const user = await check(key);
    apiKey.set(key);
    input.value = "";
    stream.close();
    clearHonesty();
    showStudio(user);
    byId("prompt").focus();
  } catch (exc) {
    const message =
      exc instanceof ApiError && exc.status === 401
        ? "That API key was not accepted. Check that you copied all of it, or create a new one with `soundstar keys create`."
        : exc.message;
    byId("signin-error").textContent = message;
    input.focus();
  } finally {
    button.disabled = false;
  }
}

/** Forget the person: key, socket, banners and every panel's state (the next person starts clean). */
function forget() {
  apiKey.clear();
  stream.close();
  clearHonesty();
  resetState();
  resetControls(byId("studio"));
  emit("signed-out");
}

function signOut() {
  forget();
  showSignIn();
}

/** Wire the sign-in form and resume a stored key if it still works. */
export async function initAuth() {
  byId("signin-form").addEventListener("submit", submit);
  byId("sign-out").addEventListener("click", signOut);
  onUnauthorized(() => {
    forget();
    showSignIn("Your API key is no longer accepted. Please sign in again.");
  });
  const stored = apiKey.get();
  if (!stored) {
    showSignIn();
    return;
  }
  try {
    showStudio(await check(stored));
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) apiKey.clear();
    showSignIn(exc.message);
  }
}
