//! A headless Chromium driven over the DevTools protocol (chromiumoxide), for the console
//! tests: real clicks and keystrokes, DOM polling with a bounded wait (never a sleep), and
//! screenshots checked for basic sanity.

use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{BrowserConfig, Page};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::task::JoinHandle;

/// How long a DOM condition may take to become true.
const WAIT: Duration = Duration::from_secs(20);
/// How often a DOM condition is checked.
const POLL: Duration = Duration::from_millis(100);
/// The viewport the screenshots are taken at.
const VIEWPORT: (u32, u32) = (1280, 900);

/// The Chromium binary: `SLUICE_CHROMIUM` when set, else Debian's `/usr/bin/chromium`.
fn executable() -> PathBuf {
    let path = std::env::var_os("SLUICE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: install it with `apt-get install -y --no-install-recommends chromium` \
         or set SLUICE_CHROMIUM",
        path.display()
    );
    path
}

/// A running headless Chromium with a fresh profile; closed on [`Browser::close`], killed on
/// drop.
pub struct Browser {
    browser: chromiumoxide::Browser,
    handler: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Launches Chromium headless, without sandbox (tests run as root), with a fresh profile.
    pub async fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(executable())
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(VIEWPORT.0, VIEWPORT.1)
            .viewport(Viewport {
                width: VIEWPORT.0,
                height: VIEWPORT.1,
                ..Viewport::default()
            })
            // Keys without the leading `--`; `--headless` and `--no-sandbox` come from the
            // builder's defaults and `no_sandbox()`.
            .args([
                "disable-gpu",
                "disable-quic",
                "no-first-run",
                "disable-background-networking",
                "disable-component-update",
                "disable-sync",
            ])
            .build()
            .expect("browser config");
        let (browser, mut handler) = chromiumoxide::Browser::launch(config)
            .await
            .expect("chromium starts");
        // The handler drives the DevTools connection. It yields an error for a message it
        // cannot decode (newer Chromium events); the connection is still good, so keep going.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Browser {
            browser,
            handler,
            _profile: profile,
        }
    }

    /// A new tab at `url`, loaded.
    pub async fn open(&self, url: &str) -> Tab {
        let page = self.browser.new_page(url).await.expect("new page");
        page.wait_for_navigation().await.expect("page loads");
        Tab { page }
    }

    /// Closes Chromium and waits for it to exit.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// One tab.
pub struct Tab {
    page: Page,
}

impl Tab {
    /// The value of a JavaScript expression (awaited when it is a promise).
    pub async fn eval(&self, expression: &str) -> Value {
        let wrapped = format!("(async () => ({expression}))()");
        let result = self
            .page
            .evaluate_expression(
                chromiumoxide::cdp::js_protocol::runtime::EvaluateParams::builder()
                    .expression(wrapped)
                    .await_promise(true)
                    .return_by_value(true)
                    .build()
                    .expect("evaluate params"),
            )
            .await
            .unwrap_or_else(|error| panic!("evaluating `{expression}`: {error}"));
        result.value().cloned().unwrap_or(Value::Null)
    }

    /// Waits until `condition` (a JavaScript expression) is truthy; returns its value.
    pub async fn wait_for(&self, what: &str, condition: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.eval(condition).await;
            if truthy(&value) {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                let body = self.eval("document.body.innerText").await;
                panic!("timed out waiting for {what} (`{condition}`); the page says:\n{body}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the page heading to read `text`.
    pub async fn wait_heading(&self, text: &str) {
        let condition = format!(
            "document.querySelector('h1')?.textContent === {}",
            Value::from(text)
        );
        self.wait_for(&format!("heading `{text}`"), &condition)
            .await;
    }

    /// Waits for `selector` to match a visible element.
    pub async fn wait_visible(&self, selector: &str) {
        let condition = format!(
            "(() => {{ const el = document.querySelector({}); \
             return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0; }})()",
            Value::from(selector)
        );
        self.wait_for(&format!("`{selector}` to show"), &condition)
            .await;
    }

    /// The text of the first element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        let expression = format!(
            "document.querySelector({})?.textContent ?? null",
            Value::from(selector)
        );
        match self.eval(&expression).await {
            Value::String(text) => text,
            other => panic!("no text at `{selector}`: {other}"),
        }
    }

    /// The `value` of the form control matching `selector`.
    pub async fn value(&self, selector: &str) -> String {
        let expression = format!(
            "document.querySelector({})?.value ?? null",
            Value::from(selector)
        );
        match self.eval(&expression).await {
            Value::String(text) => text,
            other => panic!("no control at `{selector}`: {other}"),
        }
    }

    /// Clicks the element matching `selector`, as a user would (mouse events at its centre).
    /// The page may re-render between finding the element and clicking it (a view refreshing
    /// its list); a click that misses is tried again on the fresh element until the deadline.
    pub async fn click(&self, selector: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.wait_visible(selector).await;
            let clicked = match self.page.find_element(selector).await {
                Ok(element) => element.click().await.map(drop),
                Err(error) => Err(error),
            };
            match clicked {
                Ok(()) => return,
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    panic!("clicking {selector}: {error}")
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Replaces the text of the control matching `selector` by typing `text` into it.
    pub async fn fill(&self, selector: &str, text: &str) {
        self.wait_visible(selector).await;
        let clear = format!(
            "(() => {{ const el = document.querySelector({}); el.value = ''; el.focus(); return true; }})()",
            Value::from(selector)
        );
        self.eval(&clear).await;
        let element = self.page.find_element(selector).await.expect(selector);
        element.type_str(text).await.expect("type");
    }

    /// Presses Enter in the control matching `selector` (submits its form, as a user would).
    pub async fn press_enter(&self, selector: &str) {
        let element = self.page.find_element(selector).await.expect(selector);
        element.press_key("Enter").await.expect("press Enter");
    }

    /// Chooses `value` in the `<select>` matching `selector` and fires `change`, as picking an
    /// option with the keyboard does.
    pub async fn choose(&self, selector: &str, value: &str) {
        self.wait_visible(selector).await;
        let script = format!(
            "(() => {{ const el = document.querySelector({}); el.focus(); el.value = {}; \
             el.dispatchEvent(new Event('change', {{ bubbles: true }})); return el.value; }})()",
            Value::from(selector),
            Value::from(value)
        );
        let chosen = self.eval(&script).await;
        assert_eq!(
            chosen,
            Value::from(value),
            "no option `{value}` in `{selector}`"
        );
    }

    /// A PNG screenshot of the viewport, also saved as `name.png` for people to look at.
    pub async fn screenshot(&self, name: &str) -> Vec<u8> {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        let png = self.page.screenshot(params).await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("save screenshot");
        png
    }

    /// Decodes `png` with the browser's own image decoder and counts the distinct colours of
    /// a sample of its pixels: `(width, height, colours)`.
    pub async fn decode_png(&self, png: &[u8]) -> (u64, u64, u64) {
        let script = format!(
            "(async () => {{ \
               const img = new Image(); img.src = 'data:image/png;base64,{}'; await img.decode(); \
               const canvas = document.createElement('canvas'); \
               canvas.width = img.naturalWidth; canvas.height = img.naturalHeight; \
               const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0); \
               const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data; \
               const seen = new Set(); \
               for (let i = 0; i < data.length; i += 4 * 7) {{ \
                 seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]); \
               }} \
               return [canvas.width, canvas.height, seen.size]; }})()",
            base64(png)
        );
        let value = self.eval(&script).await;
        let numbers: Vec<u64> = value
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        match numbers.as_slice() {
            [width, height, colours] => (*width, *height, *colours),
            _ => panic!("the browser could not decode the screenshot: {value}"),
        }
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// What the structure of a PNG file says (RFC 2083 / ISO 15948): its size.
#[derive(Debug, PartialEq, Eq)]
pub struct PngInfo {
    pub width: u32,
    pub height: u32,
}

/// Checks a PNG's structure: the signature, every chunk's CRC, IHDR first, at least one
/// IDAT, IEND last.
pub fn check_png(bytes: &[u8]) -> PngInfo {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    assert!(bytes.starts_with(&SIGNATURE), "not a PNG signature");
    let mut at = SIGNATURE.len();
    let mut kinds = Vec::new();
    let mut info = None;
    while at < bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + length];
        let crc = u32::from_be_bytes(bytes[at + 8 + length..at + 12 + length].try_into().unwrap());
        assert_eq!(
            crc32(&bytes[at + 4..at + 8 + length]),
            crc,
            "bad CRC in a {kind:?} chunk"
        );
        if kind == b"IHDR" {
            info = Some(PngInfo {
                width: u32::from_be_bytes(data[0..4].try_into().unwrap()),
                height: u32::from_be_bytes(data[4..8].try_into().unwrap()),
            });
        }
        kinds.push(String::from_utf8_lossy(kind).into_owned());
        at += 12 + length;
    }
    assert_eq!(kinds.first().map(String::as_str), Some("IHDR"), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("IEND"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "IDAT"), "{kinds:?}");
    info.expect("IHDR")
}

/// CRC-32 as PNG uses it (ISO 3309, reflected, polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Standard base64 with padding (RFC 4648 §4), for a data URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn crc32_and_base64_match_their_reference_values() {
    assert_eq!(crc32(b"IEND"), 0xae42_6082);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
