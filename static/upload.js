// The complaint form's evidence: warn before uploading a file over a limit, and show how far a
// large upload has gone. Without this script the form works the same (the server checks the
// limits and answers with the same pages); with it, nothing is sent that the server would refuse.
// The words come from the page (data-* attributes), so they are in the page's language.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  var input = form && form.querySelector("input[type=file][data-max-files]");
  if (!input || !window.FormData || !("upload" in new XMLHttpRequest())) {
    return;
  }
  var status = document.getElementById("upload-status");
  var progress = document.getElementById("upload-progress");
  var progressText = document.getElementById("upload-progress-text");
  var button = form.querySelector("button[type=submit]");
  var limits = {
    files: Number(input.dataset.maxFiles),
    each: Number(input.dataset.maxFileSize),
    total: Number(input.dataset.maxTotalSize),
    inMemory: Number(input.dataset.maxInMemorySize || input.dataset.maxFileSize)
  };
  // Photos and PDFs are cleaned in memory on the server, so they have a smaller limit.
  var IN_MEMORY = /^(image\/|application\/pdf$)|\.(jpe?g|png|webp|heic|pdf)$/i;

  function megabytes(bytes) {
    var value = bytes / 1048576;
    return (value === Math.round(value) ? String(value) : value.toFixed(1)) + " MB";
  }

  function tooLarge(file) {
    var inMemory = IN_MEMORY.test(file.type) || (!file.type && IN_MEMORY.test(file.name));
    var limit = inMemory ? Math.min(limits.inMemory, limits.each) : limits.each;
    if (file.size <= limit) {
      return "";
    }
    var template = inMemory && limit < limits.each ? input.dataset.msgInMemory : input.dataset.msgTooLarge;
    return fill(template, { name: file.name, size: megabytes(file.size), limit: megabytes(limit) });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key];
    });
  }

  function problem() {
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length > limits.files) {
      return fill(input.dataset.msgTooMany, { count: files.length, limit: limits.files });
    }
    var total = 0;
    for (var i = 0; i < files.length; i += 1) {
      var large = tooLarge(files[i]);
      if (large) {
        return large;
      }
      total += files[i].size;
    }
    if (total > limits.total) {
      return fill(input.dataset.msgTotal, { size: megabytes(total), limit: megabytes(limits.total) });
    }
    return "";
  }

  function show(message) {
    status.textContent = message;
    status.hidden = !message;
  }

  input.addEventListener("change", function () {
    show(problem());
  });

  form.addEventListener("submit", function (event) {
    var message = problem();
    if (message) {
      event.preventDefault();
      show(message);
      input.focus();
      return;
    }
    if (!input.files || input.files.length === 0) {
      return; // nothing large to wait for: the browser sends it as usual
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (progressEvent) {
      if (!progressEvent.lengthComputable) {
        return;
      }
      var percent = Math.floor((progressEvent.loaded / progressEvent.total) * 100);
      progress.value = percent;
      progressText.textContent = fill(progress.dataset.msgProgress, {
        percent: percent, remaining: megabytes(progressEvent.total - progressEvent.loaded)
      });
    });
    request.addEventListener("load", function () {
      var redirected = request.responseURL && request.responseURL.split("#")[0] !== form.action;
      if (redirected && request.status === 200) {
        window.location.assign(request.responseURL);
        return;
      }
      // A refusal (the form with its messages, 413, 429, 503): show the server's own page.
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      progress.parentNode.hidden = true;
      button.disabled = false;
      show(progress.dataset.msgFailed);
    });
    progress.value = 0;
    progressText.textContent = "";
    progress.parentNode.hidden = false;
    button.disabled = true;
    request.send(new FormData(form));
  });
}());
