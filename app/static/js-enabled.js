// Loaded synchronously at the top of <body> (no inline script under our CSP): tells the CSS and
// GOV.UK Frontend that JavaScript runs, before the first paint.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
