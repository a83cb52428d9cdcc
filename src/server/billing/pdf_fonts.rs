//! The invoice PDFs' one type family, Noto (SIL Open Font License, from
//! Debian's `fonts-noto-core` and `fonts-noto-cjk`): Noto Sans for Latin,
//! Greek and Cyrillic, and Noto Sans CJK for what it lacks, so a name like
//! "Müller & Søn Łódź 株式会社" prints as written. Read once from
//! `invoice_font_dir`; krilla embeds the glyphs a document uses (a subset),
//! and text is measured with the shaper krilla draws it with, so wrapping
//! and right alignment match the page. A character neither face has is
//! drawn as "?" (PDF/A forbids a missing-glyph box).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where Debian puts fonts; the faces are found under it as its packages
/// place them.
pub use crate::server::config::DEFAULT_FONT_DIR;
const FILES: [&str; 4] = [
    "truetype/noto/NotoSans-Regular.ttf",
    "opentype/noto/NotoSansCJK-Regular.ttc",
    "truetype/noto/NotoSans-Bold.ttf",
    "opentype/noto/NotoSansCJK-Bold.ttc",
];

static FONT_DIR: OnceLock<PathBuf> = OnceLock::new();
static FONTS: OnceLock<PdfFonts> = OnceLock::new();

/// One face of the family.
pub struct Face {
    shaper: rustybuzz::Face<'static>,
    pub pdf: krilla::text::Font,
    units_per_em: f32,
    /// Above and below the baseline, in em, as the PDF's font descriptor
    /// (and so a text extractor's word boxes) has them.
    pub ascent: f32,
    pub descent: f32,
}

/// A weight of the family: Noto Sans, and Noto Sans CJK where it lacks a
/// character.
pub struct Style {
    pub main: Face,
    pub cjk: Face,
}

pub struct PdfFonts {
    pub regular: Style,
    pub bold: Style,
}

/// Sets the folder the faces are read from (start-up, from the config);
/// the first call wins, and without one the Debian folder is used.
pub fn use_font_dir(dir: &Path) {
    let _ = FONT_DIR.set(dir.to_path_buf());
}

/// The faces, read on first use; why not, when they cannot be read (tried
/// again at the next use, so installing them needs no restart).
pub fn fonts() -> Result<&'static PdfFonts, String> {
    if let Some(fonts) = FONTS.get() {
        return Ok(fonts);
    }
    let dir = font_dir();
    // Nothing is read (and kept) while a file is missing.
    if let Some(why) = missing_file(&dir) {
        return Err(why);
    }
    let [regular, regular_cjk, bold, bold_cjk] = FILES;
    let loaded = PdfFonts {
        regular: Style {
            main: Face::read(&dir.join(regular))?,
            cjk: Face::read(&dir.join(regular_cjk))?,
        },
        bold: Style {
            main: Face::read(&dir.join(bold))?,
            cjk: Face::read(&dir.join(bold_cjk))?,
        },
    };
    // Two first uses at once both read the files; one result is kept.
    Ok(FONTS.get_or_init(|| loaded))
}

/// Says why invoices cannot be drawn, for the start-up check, the month
/// close and the pages that warn: before the faces are read, only whether
/// their files are there (cheap enough for a page).
pub fn unavailable() -> Option<String> {
    if FONTS.get().is_some() {
        return None;
    }
    missing_file(&font_dir())
}

fn font_dir() -> PathBuf {
    FONT_DIR
        .get()
        .cloned()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FONT_DIR))
}

/// The first face whose file is not there, said for an operator.
fn missing_file(dir: &Path) -> Option<String> {
    FILES.iter().map(|file| dir.join(file)).find_map(|path| {
        (!path.is_file()).then(|| {
            format!(
                "Invoice PDFs need the font {}; install Debian's fonts-noto-core and fonts-noto-cjk, or set invoice_font_dir.",
                path.display()
            )
        })
    })
}

impl Face {
    fn read(path: &Path) -> Result<Face, String> {
        let why = |detail: String| {
            format!(
                "Invoice PDFs need the font {} ({detail}); install Debian's fonts-noto-core and fonts-noto-cjk, or set invoice_font_dir.",
                path.display()
            )
        };
        let bytes = std::fs::read(path).map_err(|e| why(e.to_string()))?;
        // Read once per process and kept for its life: the shaper borrows it.
        let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let parsed =
            rustybuzz::Face::from_slice(data, 0).ok_or_else(|| why("not a font".into()))?;
        let units_per_em = f32::from(parsed.units_per_em() as u16).max(1.0);
        let pdf = krilla::text::Font::new(data.into(), 0)
            .ok_or_else(|| why("not a font krilla reads".into()))?;
        let ascent = f32::from(parsed.ascender()) / units_per_em;
        let descent = -f32::from(parsed.descender()) / units_per_em;
        Ok(Face {
            shaper: parsed,
            pdf,
            units_per_em,
            ascent,
            descent,
        })
    }

    /// The width of `text` at `size` points, as shaped for drawing.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let advance: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
        advance as f32 / self.units_per_em * size
    }

    /// `text` shaped left to right for drawing, by the face parsed once
    /// (krilla's own `draw_text` parses the font at every call: 0.7 s for
    /// a 1,000-line invoice).
    pub fn glyphs(&self, text: &str) -> Vec<krilla::text::KrillaGlyph> {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let infos = shaped.glyph_infos();
        let em = self.units_per_em;
        shaped
            .glyph_positions()
            .iter()
            .zip(infos)
            .enumerate()
            .map(|(index, (position, info))| {
                let start = info.cluster as usize;
                // The cluster ends where the next one starts.
                let end = infos[index..]
                    .iter()
                    .map(|next| next.cluster as usize)
                    .find(|cluster| *cluster != start)
                    .unwrap_or(text.len());
                krilla::text::KrillaGlyph::new(
                    krilla::text::GlyphId::new(info.glyph_id),
                    position.x_advance as f32 / em,
                    position.x_offset as f32 / em,
                    position.y_offset as f32 / em,
                    position.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect()
    }

    fn has(&self, c: char) -> bool {
        c.is_whitespace() || self.shaper.glyph_index(c).is_some()
    }
}

impl Style {
    /// Above the baseline, in em: the taller of the two faces.
    pub fn ascent(&self) -> f32 {
        self.main.ascent.max(self.cjk.ascent)
    }

    pub fn descent(&self) -> f32 {
        self.main.descent.max(self.cjk.descent)
    }

    /// `text` in runs, each with the face that has its characters.
    pub fn runs<'s>(&'s self, text: &str) -> Vec<(&'s Face, String)> {
        let mut runs: Vec<(&'s Face, String)> = Vec::new();
        for c in text.chars() {
            let (face, c) = if self.main.has(c) {
                (&self.main, c)
            } else if self.cjk.has(c) {
                (&self.cjk, c)
            } else {
                (&self.main, '?')
            };
            match runs.last_mut() {
                Some((last, run)) if std::ptr::eq(*last, face) => run.push(c),
                _ => runs.push((face, c.to_string())),
            }
        }
        runs
    }

    /// The width of `text` at `size` points, as drawn.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.runs(text)
            .iter()
            .map(|(face, run)| face.width(run, size))
            .sum()
    }
}
