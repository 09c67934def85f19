// The chat page: asks /api/v1 and shows the replies as text, never as HTML.

const SESSION_KEY = "yibao-chat-session";
const REQUEST_TIMEOUT_MS = 15000;
const TEXTS = {
  welcome: "您好！我是医保家庭账户小助手，可以解答家庭共济和医保亲情账户的问题。请直接输入您的问题，或点下面的常见问题。",
  popular: "大家都在问",
  clarify: "请点选您想问的问题",
  related: "您可能还想问",
  helpful: "有用",
  unhelpful: "没用",
  thanks: "谢谢反馈",
  loading: "正在查找答案",
  tooFrequent: "请求太频繁，请稍后再试",
  offline: "网络不通，请稍后再试",
  failed: "出了点问题，请稍后再试",
};

const topBar = document.querySelector(".top-bar");
const messageList = document.getElementById("messages");
const composer = document.getElementById("composer");
const questionInput = document.getElementById("question");
const sendButton = document.getElementById("send");

let session = readStoredSession();
let busy = false;

/** An API failure: status 0 means the request never got an answer. */
class ApiError extends Error {
  constructor(status, code) {
    super(`${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

function readStoredSession() {
  try {
    return localStorage.getItem(SESSION_KEY);
  } catch {
    return null; // storage blocked (private mode): the session lasts as long as the page
  }
}

function rememberSession(newSession) {
  session = newSession || null;
  try {
    if (session) {
      localStorage.setItem(SESSION_KEY, session);
    } else {
      localStorage.removeItem(SESSION_KEY);
    }
  } catch {
    // storage blocked: keep the session in memory only
  }
}

function timeoutSignal(milliseconds) {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), milliseconds);
  return controller.signal;
}

async function callApi(path, body) {
  const request = { signal: timeoutSignal(REQUEST_TIMEOUT_MS) };
  if (body !== undefined) {
    request.method = "POST";
    request.headers = { "Content-Type": "application/json" };
    request.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, request);
  } catch {
    throw new ApiError(0, "network");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || data === null) {
    throw new ApiError(response.status, data?.error?.code ?? "bad_response");
  }
  return data;
}

async function askApi(text) {
  try {
    return await callApi("/api/v1/ask", session ? { session, text } : { text });
  } catch (error) {
    if (error.code !== "invalid_session") {
      throw error;
    }
    rememberSession(null); // signed with a key the server no longer has: start a new conversation
    return callApi("/api/v1/ask", { text });
  }
}

function errorText(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return TEXTS.failed;
  }
  if (error.status === 0) {
    return TEXTS.offline;
  }
  return error.status === 429 ? TEXTS.tooFrequent : TEXTS.failed;
}

function createElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) {
    element.textContent = text;
  }
  return element;
}

/** Appends a row with an avatar and a bubble; returns the column under the bubble for buttons. */
function addMessage(side, text, kind = "") {
  const row = createElement("div", `message ${side} ${kind}`.trim());
  const avatar = createElement("div", "avatar", side === "bot" ? "保" : "我");
  avatar.setAttribute("aria-hidden", "true");
  const body = createElement("div", "message-body");
  body.append(createElement("p", "bubble", text));
  row.append(avatar, body);
  messageList.append(row);
  return body;
}

function scrollToEnd() {
  window.scrollTo({ top: document.documentElement.scrollHeight });
}

/** Scrolls `element` up under the header: a long answer is read from its first line, not its last. */
function revealFromTop(element) {
  const top = element.getBoundingClientRect().top + window.scrollY - topBar.offsetHeight - 8;
  const end = document.documentElement.scrollHeight - window.innerHeight;
  window.scrollTo({ top: Math.min(top, end) });
}

function choiceList(heading, faqs) {
  const list = createElement("div", "choices");
  list.append(createElement("p", "choices-heading", heading));
  for (const faq of faqs) {
    list.append(choiceButton(faq));
  }
  return list;
}

function choiceButton(faq) {
  const button = createElement("button", "choice", faq.title);
  button.type = "button";
  button.dataset.faqId = faq.faq_id;
  button.addEventListener("click", () => ask(faq.faq_id, faq.title));
  return button;
}

function feedbackRow(faqId) {
  const row = createElement("div", "feedback");
  for (const [label, helpful] of [
    [TEXTS.helpful, true],
    [TEXTS.unhelpful, false],
  ]) {
    const button = createElement("button", "feedback-button", label);
    button.type = "button";
    button.addEventListener("click", () => sendFeedback(row, button, faqId, helpful));
    row.append(button);
  }
  return row;
}

function setButtonsDisabled(container, disabled) {
  for (const button of container.querySelectorAll("button")) {
    button.disabled = disabled;
  }
}

async function sendFeedback(row, button, faqId, helpful) {
  setButtonsDisabled(row, true);
  try {
    await callApi("/api/v1/feedback", { session, faq_id: faqId, helpful });
    button.classList.add("chosen");
    row.append(createElement("span", "feedback-note", TEXTS.thanks));
  } catch (error) {
    setButtonsDisabled(row, false); // not recorded: let the user try again
    showError(errorText(error));
  }
}

function showReply(reply) {
  const body = addMessage("bot", reply.answer);
  if (reply.options?.length) {
    body.append(choiceList(TEXTS.clarify, reply.options));
  }
  if (reply.action === "answer" && reply.faq_id) {
    body.append(feedbackRow(reply.faq_id));
  }
  if (reply.related?.length) {
    body.append(choiceList(TEXTS.related, reply.related));
  }
}

function showError(text) {
  addMessage("bot", text, "error");
  scrollToEnd();
}

function showLoading() {
  const body = addMessage("bot", "", "loading");
  const bubble = body.firstElementChild;
  bubble.setAttribute("aria-label", TEXTS.loading);
  for (let i = 0; i < 3; i += 1) {
    bubble.append(createElement("span", "dot"));
  }
  scrollToEnd();
  return body.parentElement;
}

function setBusy(value) {
  busy = value;
  updateSendButton();
}

function updateSendButton() {
  sendButton.disabled = busy || questionInput.value.trim() === "";
}

/** Sends `text` (typed, or an FAQ id from a button) and shows `shownText` as the user's bubble. */
async function ask(text, shownText) {
  if (busy) {
    return;
  }
  setBusy(true);
  const question = addMessage("user", shownText).parentElement;
  const loading = showLoading();
  try {
    const reply = await askApi(text);
    rememberSession(reply.session);
    loading.remove();
    showReply(reply);
    revealFromTop(question);
  } catch (error) {
    loading.remove();
    showError(errorText(error));
  } finally {
    setBusy(false);
  }
}

function submitQuestion(event) {
  event.preventDefault();
  const text = questionInput.value.trim();
  if (text === "" || busy) {
    return;
  }
  questionInput.value = "";
  ask(text, text);
}

async function showWelcome() {
  const body = addMessage("bot", TEXTS.welcome);
  try {
    const data = await callApi("/api/v1/popular");
    if (data.faqs?.length) {
      body.append(choiceList(TEXTS.popular, data.faqs));
    }
  } catch (error) {
    showError(errorText(error));
  }
}

composer.addEventListener("submit", submitQuestion);
questionInput.addEventListener("input", updateSendButton);
showWelcome();
