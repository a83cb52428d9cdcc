//! The built site's bundle (JS, WASM, CSS) as pages must name it. The
//! server finds the files in `site_root/pkg` at start-up rather than
//! trusting names compiled into the binary or a hash file next to it:
//! hashed or plain names, wasm-bindgen's `_bg` suffix or not, the pages ask
//! for what the site folder holds, whichever command built the binary.

use std::path::Path;

use leptos::prelude::*;

/// What `site_root/pkg` holds, found once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// The JS glue's file name ("billing-console.Ab12.js").
    pub js: String,
    /// The main WASM module's file name.
    pub wasm: String,
    /// The stylesheet's file name.
    pub css: String,
    /// File names carry a content hash, so they can be cached for good.
    pub hashed: bool,
}

impl Bundle {
    /// Looks for `output_name`'s files in `site_root/pkg_dir`. Missing files
    /// leave the plain names (pages then render, but do not hydrate); the
    /// caller logs that.
    pub fn locate(site_root: &str, pkg_dir: &str, output_name: &str) -> Bundle {
        let dir = Path::new(site_root).join(pkg_dir);
        let mut names: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| {
                        let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                        Some((modified, e.file_name().to_string_lossy().into_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Newest first: a folder holding two builds names the latest.
        names.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        let find = |extension: &str| {
            names
                .iter()
                .map(|(_, name)| name)
                .find(|name| bundle_file(name, output_name, extension))
                .cloned()
        };
        let js = find("js");
        let wasm = find("wasm");
        let css = find("css");
        let hashed = [&js, &wasm, &css].iter().any(|name| {
            name.as_deref()
                .is_some_and(|n| hash_of(n, output_name).is_some())
        });
        Bundle {
            js: js.unwrap_or_else(|| format!("{output_name}.js")),
            wasm: wasm.unwrap_or_else(|| format!("{output_name}.wasm")),
            css: css.unwrap_or_else(|| format!("{output_name}.css")),
            hashed,
        }
    }

    /// The files a page needs that are missing from `site_root/pkg_dir`.
    pub fn missing(&self, site_root: &str, pkg_dir: &str) -> Vec<String> {
        let dir = Path::new(site_root).join(pkg_dir);
        [&self.js, &self.wasm, &self.css]
            .into_iter()
            .filter(|name| !dir.join(name).is_file())
            .cloned()
            .collect()
    }
}

/// `name` is the bundle's file of this extension: `out.ext`, `out.HASH.ext`,
/// or wasm-bindgen's `out_bg.wasm`.
fn bundle_file(name: &str, output_name: &str, extension: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(extension)
        .and_then(|s| s.strip_suffix('.'))
    else {
        return false;
    };
    stem == output_name
        || (extension == "wasm" && stem == format!("{output_name}_bg"))
        || hash_of(name, output_name).is_some()
}

/// The hash in `out.HASH.ext` (cargo-leptos's `hash-files`).
fn hash_of<'a>(name: &'a str, output_name: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(output_name)?.strip_prefix('.')?;
    let (hash, extension) = rest.rsplit_once('.')?;
    (!hash.is_empty() && !extension.is_empty() && !hash.contains('.')).then_some(hash)
}

/// Starts the WASM once the page has loaded: the same steps as Leptos's
/// own hydration script, with the names this server found.
const HYDRATE: &str = r#"import(`${R}/${P}/${J}`).then(m => m.default({module_or_path: `${R}/${P}/${W}`}).then(() => m.hydrate()));"#;

/// The `<head>` links of a page: the stylesheet, preloads of the JS and
/// WASM, and the script that hydrates.
pub fn head(bundle: &Bundle, root: &str, pkg_dir: &str) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let script = HYDRATE
        .replace("${R}", root)
        .replace("${P}", pkg_dir)
        .replace("${J}", &bundle.js)
        .replace("${W}", &bundle.wasm);
    view! {
        <link rel="stylesheet" id="leptos" href=format!("{root}/{pkg_dir}/{}", bundle.css) />
        <link rel="modulepreload" href=format!("{root}/{pkg_dir}/{}", bundle.js) crossorigin="anonymous" />
        <link
            rel="preload"
            href=format!("{root}/{pkg_dir}/{}", bundle.wasm)
            r#as="fetch"
            r#type="application/wasm"
            crossorigin="anonymous"
        />
        <script type="module" nonce=nonce>{script}</script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_plain_hashed_and_bindgen_names() {
        assert!(bundle_file(
            "billing-console.wasm",
            "billing-console",
            "wasm"
        ));
        assert!(bundle_file(
            "billing-console_bg.wasm",
            "billing-console",
            "wasm"
        ));
        assert!(bundle_file(
            "billing-console.Zx9_-a.wasm",
            "billing-console",
            "wasm"
        ));
        assert!(!bundle_file(
            "billing-console.wasm.br",
            "billing-console",
            "wasm"
        ));
        assert!(!bundle_file("other.wasm", "billing-console", "wasm"));
        assert!(!bundle_file(
            "billing-console.d.ts",
            "billing-console",
            "js"
        ));
        assert_eq!(
            hash_of("billing-console.Zx9.css", "billing-console"),
            Some("Zx9")
        );
        assert_eq!(hash_of("billing-console.css", "billing-console"), None);
    }

    #[test]
    fn a_hashed_site_is_found_by_its_files() {
        let dir = std::env::temp_dir().join(format!("bundle-{}", std::process::id()));
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for name in [
            "app.h1.js",
            "app.h2.wasm",
            "app.h3.css",
            "app.h2.wasm.br",
            "app.d.ts",
        ] {
            std::fs::write(pkg.join(name), b"x").unwrap();
        }
        let bundle = Bundle::locate(dir.to_str().unwrap(), "pkg", "app");
        assert_eq!(
            (
                bundle.js.as_str(),
                bundle.wasm.as_str(),
                bundle.css.as_str()
            ),
            ("app.h1.js", "app.h2.wasm", "app.h3.css")
        );
        assert!(bundle.hashed);
        assert!(bundle.missing(dir.to_str().unwrap(), "pkg").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
