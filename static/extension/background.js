// Context menu: take the selected text (and the site, for the channel) to a Vetted window. The keyboard
// shortcut opens the popup itself (manifest: _execute_action), where a message can be pasted.
const MENU_ID = "vetted-suggest";

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: "Vetted: suggest an approved answer", contexts: ["selection"] });
});

async function openWith(text, pageUrl) {
  await chrome.storage.session.set({ pending: { text: text || "", pageUrl: pageUrl || "", at: Date.now() } });
  await chrome.windows.create({ url: chrome.runtime.getURL("popup.html?from=selection"), type: "popup",
    width: 460, height: 640 });
}

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== MENU_ID) return;
  return openWith(info.selectionText, info.pageUrl || (tab && tab.url));
});
