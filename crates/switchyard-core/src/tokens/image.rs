use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::anthropic::ImageSource;

/// Anthropic resizes images whose long edge exceeds 1568 px, which bounds an image at about
/// 1600 tokens; used when the size cannot be read (URL images, unknown formats), so the
/// guard errs high.
pub const IMAGE_FALLBACK_TOKENS: u64 = 1600;

/// Anthropic's long-edge limit before it downsizes an image.
const MAX_LONG_EDGE: u64 = 1568;

/// Pixels per token in Anthropic's published formula `tokens = width * height / 750`.
const PIXELS_PER_TOKEN: u64 = 750;

/// Enough base64 to cover the headers imagesize reads (JPEG SOF can follow a large EXIF
/// block). A multiple of 4 so the prefix decodes on its own.
const HEADER_BASE64_CHARS: usize = 256 * 1024;

/// Tokens for an image of `width` x `height` pixels, after Anthropic's downscaling.
pub fn image_tokens_for_dimensions(width: u64, height: u64) -> u64 {
    if width == 0 || height == 0 {
        return IMAGE_FALLBACK_TOKENS;
    }
    let long = width.max(height);
    let (w, h) = if long > MAX_LONG_EDGE {
        (
            (width * MAX_LONG_EDGE).div_ceil(long),
            (height * MAX_LONG_EDGE).div_ceil(long),
        )
    } else {
        (width, height)
    };
    (w * h)
        .div_ceil(PIXELS_PER_TOKEN)
        .clamp(1, IMAGE_FALLBACK_TOKENS)
}

pub(crate) fn image_source_tokens(source: &ImageSource) -> u64 {
    match source {
        ImageSource::Base64 { data, .. } => base64_image_tokens(data),
        ImageSource::Url { .. } | ImageSource::Other(_) => IMAGE_FALLBACK_TOKENS,
    }
}

fn base64_image_tokens(data: &str) -> u64 {
    dimensions(data).map_or(IMAGE_FALLBACK_TOKENS, |(w, h)| {
        image_tokens_for_dimensions(w, h)
    })
}

fn dimensions(data: &str) -> Option<(u64, u64)> {
    let data = data.trim();
    let mut end = data.len().min(HEADER_BASE64_CHARS);
    end -= end % 4;
    let prefix = data.get(..end)?;
    // A short image ends in padding; a cut prefix never does, so strict decoding works on both.
    let bytes = STANDARD.decode(prefix).ok()?;
    let size = imagesize::blob_size(&bytes).ok()?;
    Some((size.width as u64, size.height as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG signature and IHDR chunk for the given size: all imagesize reads.
    fn png_header(width: u32, height: u32) -> String {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        STANDARD.encode(bytes)
    }

    #[test]
    fn formula_matches_anthropic_examples() {
        // Anthropic's docs: 1092x1092 ≈ 1590 tokens, 200x200 ≈ 54.
        assert_eq!(image_tokens_for_dimensions(1092, 1092), 1590);
        assert_eq!(image_tokens_for_dimensions(200, 200), 54);
    }

    #[test]
    fn large_images_are_scaled_and_capped() {
        assert_eq!(
            image_tokens_for_dimensions(4000, 3000),
            IMAGE_FALLBACK_TOKENS
        );
        // 3136x100 scales to 1568x50.
        assert_eq!(image_tokens_for_dimensions(3136, 100), 105);
    }

    #[test]
    fn reads_png_dimensions_from_base64() {
        assert_eq!(base64_image_tokens(&png_header(300, 150)), 60);
    }

    #[test]
    fn unreadable_image_falls_back_high() {
        assert_eq!(base64_image_tokens("not base64!"), IMAGE_FALLBACK_TOKENS);
        assert_eq!(
            image_source_tokens(&ImageSource::Url {
                url: "https://example.invalid/x.png".into()
            }),
            IMAGE_FALLBACK_TOKENS
        );
    }
}
