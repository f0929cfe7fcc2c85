//! Which rows of a long list to put in the DOM.
//!
//! Every row has the same height except at most one taller row (the one expanded into its
//! editor). The list renders the rows in view plus a margin, and stands in for the others with
//! empty gaps of the right height, so the scroll bar matches the whole list. The tall row is
//! always rendered, even out of view: it holds what the user is typing.

use std::ops::Range;

/// Height of a row in CSS pixels; `styles.css` gives `.row` the same height.
pub const ROW_HEIGHT: u32 = 64;

/// Rows rendered beyond each edge of the view, so fast scrolling shows no blank.
pub const OVERSCAN: usize = 8;

/// The rendered window starts and ends on multiples of this many rows, so most scroll events
/// leave it unchanged and cost no render at all.
pub const CHUNK: usize = 4;

/// The one row taller than [`ROW_HEIGHT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallRow {
    /// Its position in the list.
    pub index: usize,
    /// Its measured height in pixels.
    pub height: u32,
}

/// The geometry of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of rows.
    pub rows: usize,
    /// Height of an ordinary row.
    pub row_height: u32,
    /// The expanded row, if any (ignored when out of range).
    pub tall: Option<TallRow>,
}

/// A piece of the rendered list, top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Empty space standing in for rows not rendered, in pixels.
    Gap(u32),
    /// Rows rendered, by position.
    Rows(Range<usize>),
}

impl Layout {
    /// A list of `rows` ordinary rows, with the row at `tall_index` (if any) `tall_height` high.
    pub fn new(rows: usize, tall_index: Option<usize>, tall_height: u32) -> Self {
        Layout {
            rows,
            row_height: ROW_HEIGHT,
            tall: tall_index
                .filter(|&index| index < rows)
                .map(|index| TallRow {
                    index,
                    height: tall_height.max(ROW_HEIGHT),
                }),
        }
    }

    fn extra(&self) -> u32 {
        self.tall
            .map_or(0, |tall| tall.height.saturating_sub(self.row_height))
    }

    fn px(&self, rows: usize) -> u32 {
        u32::try_from(rows)
            .unwrap_or(u32::MAX)
            .saturating_mul(self.row_height)
    }

    /// Height of the whole list.
    pub fn total_height(&self) -> u32 {
        self.px(self.rows).saturating_add(self.extra())
    }

    /// Distance from the top of the list to the top of row `index`.
    pub fn top_of(&self, index: usize) -> u32 {
        let below_tall = self.tall.is_some_and(|tall| tall.index < index);
        self.px(index)
            .saturating_add(if below_tall { self.extra() } else { 0 })
    }

    /// Height of row `index`.
    pub fn height_of(&self, index: usize) -> u32 {
        match self.tall {
            Some(tall) if tall.index == index => tall.height,
            _ => self.row_height,
        }
    }

    /// The row at `y` pixels from the top (the last row below the end).
    pub fn index_at(&self, y: u32) -> usize {
        if self.rows == 0 || self.row_height == 0 {
            return 0;
        }
        let plain = |y: u32| (y / self.row_height) as usize;
        let index = match self.tall {
            Some(tall) => {
                let tall_top = self.px(tall.index);
                if y < tall_top {
                    plain(y)
                } else if y < tall_top.saturating_add(tall.height) {
                    tall.index
                } else {
                    tall.index + 1 + plain(y - tall_top - tall.height)
                }
            }
            None => plain(y),
        };
        index.min(self.rows - 1)
    }

    /// The rows to render for a view of `height` pixels scrolled to `scroll_top`: those in
    /// view, at least `overscan` more on each side, widened to multiples of [`CHUNK`].
    pub fn window(&self, scroll_top: u32, height: u32, overscan: usize) -> Range<usize> {
        if self.rows == 0 {
            return 0..0;
        }
        let first = self.index_at(scroll_top);
        let last = self.index_at(scroll_top.saturating_add(height));
        let start = first.saturating_sub(overscan) / CHUNK * CHUNK;
        let end = (last + 1 + overscan).div_ceil(CHUNK) * CHUNK;
        start..end.min(self.rows)
    }

    /// The rendered list for `window`: rows, the tall row wherever it is, and gaps for the rest.
    pub fn segments(&self, window: Range<usize>) -> Vec<Segment> {
        let window = window.start.min(self.rows)..window.end.min(self.rows);
        let mut ranges = Vec::with_capacity(2);
        match self.tall {
            Some(tall) if tall.index < window.start => {
                ranges.push(tall.index..tall.index + 1);
                ranges.push(window);
            }
            Some(tall) if tall.index >= window.end => {
                ranges.push(window);
                ranges.push(tall.index..tall.index + 1);
            }
            _ => ranges.push(window),
        }
        ranges.retain(|range| !range.is_empty());

        let mut segments = Vec::with_capacity(5);
        let mut done = 0;
        for range in ranges {
            let gap = self.top_of(range.start) - self.top_of(done);
            if gap > 0 {
                segments.push(Segment::Gap(gap));
            }
            done = range.end;
            segments.push(Segment::Rows(range));
        }
        let rest = self.total_height() - self.top_of(done);
        if rest > 0 {
            segments.push(Segment::Gap(rest));
        }
        segments
    }
}

/// Where to scroll a view of `view_height` pixels, now at `scroll_top`, so that an item from
/// `top` to `top + height` is fully visible; `None` if it already is. Moves as little as needed.
pub fn scroll_to_show(top: u32, height: u32, scroll_top: u32, view_height: u32) -> Option<u32> {
    let bottom = top.saturating_add(height);
    if top < scroll_top {
        Some(top)
    } else if bottom > scroll_top.saturating_add(view_height) {
        // Taller than the view: show its top.
        Some(bottom.saturating_sub(view_height).min(top))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered_height(layout: &Layout, segments: &[Segment]) -> u32 {
        segments
            .iter()
            .map(|segment| match segment {
                Segment::Gap(px) => *px,
                Segment::Rows(range) => range.clone().map(|i| layout.height_of(i)).sum(),
            })
            .sum()
    }

    #[test]
    fn only_the_rows_in_view_are_rendered() {
        let layout = Layout::new(10_000, None, 0);
        let window = layout.window(64 * 5_000, 640, OVERSCAN);
        assert_eq!(
            window,
            4_992..5_020,
            "eleven rows in view plus the margin on each side, rounded out to chunks"
        );
        let segments = layout.segments(window.clone());
        assert_eq!(
            segments,
            vec![
                Segment::Gap(64 * 4_992),
                Segment::Rows(window),
                Segment::Gap(64 * (10_000 - 5_020)),
            ],
            "gaps stand in for the rows not rendered"
        );
        assert_eq!(
            rendered_height(&layout, &segments),
            layout.total_height(),
            "the rendered list is as tall as the whole list"
        );
    }

    #[test]
    fn the_window_is_clamped_at_both_ends() {
        let layout = Layout::new(20, None, 0);
        assert_eq!(layout.window(0, 640, OVERSCAN), 0..20, "top of the list");
        assert_eq!(
            layout.window(64 * 100, 640, OVERSCAN),
            8..20,
            "scrolled past the end"
        );
        assert_eq!(
            Layout::new(0, None, 0).window(0, 640, OVERSCAN),
            0..0,
            "an empty list renders nothing"
        );
        assert_eq!(
            Layout::new(0, None, 0).segments(0..0),
            vec![],
            "an empty list has no gaps"
        );
    }

    #[test]
    fn scrolling_changes_the_window_only_now_and_then() {
        let layout = Layout::new(10_000, None, 0);
        let rows_scrolled = 400;
        let mut windows = Vec::new();
        for px in 0..64 * rows_scrolled {
            let window = layout.window(64 * 100 + px, 640, OVERSCAN);
            let first = layout.index_at(64 * 100 + px);
            assert!(
                window.start + OVERSCAN <= first,
                "the margin above the view is always rendered"
            );
            if windows.last() != Some(&window) {
                windows.push(window);
            }
        }
        assert!(
            windows.len() <= 2 * (rows_scrolled as usize / CHUNK) + 1,
            "the rendered rows change at most twice per chunk, not on every row: {}",
            windows.len()
        );
    }

    #[test]
    fn rows_below_the_tall_row_move_down() {
        let layout = Layout::new(100, Some(10), 400);
        assert_eq!(layout.top_of(10), 640, "the tall row starts where it would");
        assert_eq!(layout.top_of(11), 640 + 400, "the next row starts below it");
        assert_eq!(layout.index_at(640 + 399), 10, "inside the tall row");
        assert_eq!(layout.index_at(640 + 400), 11, "just below the tall row");
        assert_eq!(
            layout.total_height(),
            99 * 64 + 400,
            "the list grows by the extra height"
        );
    }

    #[test]
    fn the_tall_row_stays_rendered_out_of_view() {
        let layout = Layout::new(1_000, Some(3), 300);
        let window = layout.window(64 * 500, 640, OVERSCAN);
        let segments = layout.segments(window.clone());
        assert_eq!(segments[0], Segment::Gap(64 * 3), "gap above the tall row");
        assert_eq!(segments[1], Segment::Rows(3..4), "the tall row is rendered");
        assert_eq!(segments[3], Segment::Rows(window), "then the rows in view");
        assert_eq!(
            rendered_height(&layout, &segments),
            layout.total_height(),
            "gaps account for the tall row"
        );

        let below = Layout::new(1_000, Some(900), 300);
        let segments = below.segments(below.window(0, 640, OVERSCAN));
        assert_eq!(
            segments[1],
            Segment::Gap(64 * (900 - 20)),
            "gap down to the tall row"
        );
        assert_eq!(
            segments[2],
            Segment::Rows(900..901),
            "the tall row below the view"
        );
        assert_eq!(
            rendered_height(&below, &segments),
            below.total_height(),
            "heights add up with the tall row below"
        );
    }

    #[test]
    fn a_stale_tall_index_is_ignored() {
        let layout = Layout::new(5, Some(7), 300);
        assert_eq!(layout.tall, None, "a tall row past the end does not exist");
        assert_eq!(layout.total_height(), 5 * 64, "so it adds no height");
    }

    #[test]
    fn scrolling_moves_as_little_as_needed() {
        assert_eq!(scroll_to_show(100, 64, 0, 640), None, "already visible");
        assert_eq!(
            scroll_to_show(100, 64, 200, 640),
            Some(100),
            "above: align its top"
        );
        assert_eq!(
            scroll_to_show(1_000, 64, 0, 640),
            Some(1_064 - 640),
            "below: align its bottom"
        );
        assert_eq!(
            scroll_to_show(1_000, 900, 0, 640),
            Some(1_000),
            "taller than the view: show its top"
        );
    }
}
