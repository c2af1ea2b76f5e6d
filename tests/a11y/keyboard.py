"""Moving through a page with the keyboard alone, checking the focus on every key press:
it is visible (an outline drawn by ``:focus-visible``) and it moves on (never trapped)."""

# What the focused element is, and whether its focus can be seen. DSFR draws the ring
# with an outline on the element (on its ::before for an enlarged link), or, for its
# visually hidden radios and checkboxes, on their label's ::before.
FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return {body: true, key: "body", what: "body"};
    window.__focusIds = window.__focusIds || new WeakMap();
    window.__focusCount = window.__focusCount || 0;
    if (!window.__focusIds.has(el)) window.__focusIds.set(el, ++window.__focusCount);
    const drawn = style => style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const ring = node => [null, "::before", "::after"].some(p => drawn(getComputedStyle(node, p)));
    let visible = el.matches(":focus-visible") && ring(el);
    // Tab walks through a date field's parts (day, month, year, hour, its calendar
    // button): the browser highlights the part that has the focus, where the outline
    // may be dropped.
    if (!visible && /^(date|time|datetime-local)$/.test(el.type)) {
        visible = el.matches(":focus-within");
    }
    if (!visible && el.labels && el.labels.length && ["radio", "checkbox"].includes(el.type)) {
        visible = ring(el.labels[0]);
    }
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    return {
        body: false,
        key: window.__focusIds.get(el),
        target: el.hasAttribute("data-cible-clavier"),
        visible: visible,
        what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} « ${text.slice(0, 40)} »`,
    };
}"""


class Keyboard:
    def __init__(self, page):
        self.page = page

    def press(self, key):
        self.page.keyboard.press(key)

    def type(self, text):
        self.page.keyboard.type(text)

    def tab_to(self, locator, backwards=False, limit=150):
        """Tab (or Shift+Tab) until ``locator`` has the focus; every element met on the
        way shows its focus, and none comes back before the target (no trap)."""
        locator.evaluate("el => el.setAttribute('data-cible-clavier', '')")
        met, previous = set(), None
        for _ in range(limit):
            self.press("Shift+Tab" if backwards else "Tab")
            state = self.page.evaluate(FOCUS)
            if state["body"]:
                continue  # between the page's last element and its first
            assert state["visible"], f"focus not visible on {state['what']}"
            if state["target"]:
                locator.evaluate("el => el.removeAttribute('data-cible-clavier')")
                return state
            if state["key"] != previous:  # else: the next part of a date field
                assert state["key"] not in met, f"focus came back to {state['what']}: trapped"
            met.add(state["key"])
            previous = state["key"]
        raise AssertionError(f"{locator} not reached in {limit} key presses")

    def activate(self, locator, key="Enter", backwards=False):
        """Tab to a link or button and press it, waiting for the page it loads."""
        self.tab_to(locator, backwards=backwards)
        with self.page.expect_navigation():
            self.press(key)

    def through_the_whole_page(self, limit=250):
        """Tab from the top of a page just loaded to the footer's last link: every
        element shows its focus and nothing holds it."""
        last = self.page.locator("#footer a").last
        return self.tab_to(last, limit=limit)
