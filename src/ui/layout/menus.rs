//! Menus (`<details class="menu">`) behave like menus once the page is
//! live: Escape closes them and gives focus back to their button, a click
//! outside closes them, and so does following a link in them. Without
//! JavaScript they still open and close by their summary.

/// Installs the listeners, once for the whole app (browser only).
pub fn close_menus_like_menus() {
    #[cfg(feature = "hydrate")]
    browser::install();
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, HtmlDetailsElement, HtmlElement, Node};

    fn open_menus() -> Vec<HtmlDetailsElement> {
        let menus = document().get_elements_by_class_name("menu");
        (0..menus.length())
            .filter_map(|i| menus.item(i))
            .filter_map(|menu| menu.dyn_into::<HtmlDetailsElement>().ok())
            .filter(|menu| menu.open())
            .collect()
    }

    pub fn install() {
        // The app lives as long as the page: the listeners are never removed.
        let _ = window_event_listener(leptos::ev::keydown, |event| {
            if event.key() != "Escape" {
                return;
            }
            for menu in open_menus() {
                menu.set_open(false);
                if let Some(summary) = menu
                    .query_selector("summary")
                    .ok()
                    .flatten()
                    .and_then(|summary| summary.dyn_into::<HtmlElement>().ok())
                {
                    let _ = summary.focus();
                }
            }
        });
        let _ = window_event_listener(leptos::ev::click, |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
                return;
            };
            let link = target
                .dyn_ref::<Element>()
                .and_then(|element| element.closest("a[href]").ok().flatten());
            for menu in open_menus() {
                let inside = menu.contains(Some(&target));
                let followed = link
                    .as_ref()
                    .is_some_and(|link| menu.contains(Some(link.as_ref())));
                if !inside || followed {
                    menu.set_open(false);
                }
            }
        });
    }
}
