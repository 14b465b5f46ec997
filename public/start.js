// Before the app arrives (its wasm takes seconds on a slow network), a phone with no account
// on it shows the login form at once, in the phone's language, to be filled in meanwhile. The
// app takes over what was typed (app/src/pages/login.rs). Nothing is sent from this form: its
// fields have no names and its button stays off until the app has replaced it.
(function () {
  "use strict";
  // The app's own words for the title, the two fields and the button (app/src/i18n; a test
  // holds them equal).
  const WORDS = {"de":["Anmelden","Benutzername","Passwort","Anmelden"],"tr":["Giriş yap","Kullanıcı adı","Şifre","Giriş yap"],"bg":["Вход","Потребителско име","Парола","Вход"],"en":["Log in","User name","Password","Log in"],"hu":["Bejelentkezés","Felhasználónév","Jelszó","Bejelentkezés"],"sk":["Prihlásiť sa","Používateľské meno","Heslo","Prihlásiť sa"]};

  function stored(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch (e) {
      return null;
    }
  }
  // An account was here: the app opens at its unlock screen, not at this form.
  if (stored("cris.last-login")) return;
  const form = document.getElementById("starting-login");
  if (!form) return;
  // As the app chooses (app/src/prefs.rs): the language chosen on this phone, else the
  // browser's first that CRIS Field speaks, else German.
  let lang = stored("cris.lang");
  if (!WORDS[lang]) {
    lang = (navigator.languages || [])
      .map(function (tag) { return tag.split(/[-_]/)[0]; })
      .find(function (code) { return WORDS[code]; }) || "de";
  }
  const [title, name, password, submit] = WORDS[lang];
  document.documentElement.lang = lang;
  form.querySelector("h1").textContent = title;
  form.querySelector("label[for='starting-login-name']").textContent = name;
  form.querySelector("label[for='starting-login-password']").textContent = password;
  form.querySelector("button").textContent = submit;
  form.hidden = false;
})();
