//! Which rows of a long list to put in the DOM.
//!
//! Every row has the same height except at most one taller row (the one expanded into its
//! editor). The list renders the rows in view plus a margin, and stands in for the others with
//! empty gaps of the right height, so the scroll bar matches the whole list. The tall row is
//! always rendered, even out of view: it holds what the user is typing.
//!
//! Rendered rows are drawn in reusable elements, [`Slots`]: a book keeps its element while it
//! stays rendered, and a book scrolled into view takes over the element of one scrolled out.
//! Scrolling then changes rows' text instead of making and dropping elements by the thousand.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::ops::Range;

/// Height of a row in CSS pixels; `styles.css` gives `.row` the same height.
pub const ROW_HEIGHT: u32 = 64;

/// Rows rendered beyond each edge of the view, so fast scrolling shows no blank.
pub const OVERSCAN: usize = 8;

/// Rows rendered beyond each edge of the view: none until the list's first rows are painted,
/// [`OVERSCAN`] from then on. The rows in view are the first screen; rendering the margins
/// with them would about double the work before it shows, and no scroll can reach them before
/// the next frame.
#[must_use]
pub fn margin(painted: bool) -> usize {
    if painted {
        OVERSCAN
    } else {
        0
    }
}

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
    /// view and at least `overscan` more on each side, starting on a multiple of [`CHUNK`].
    /// The window has one length wherever the list is scrolled (as many rows as a view of
    /// `height` can ever need), shifted back from the end if need be: every render has as many
    /// rows as the last, so the row elements ([`Slots`]) are reused, never dropped and made
    /// again.
    pub fn window(&self, scroll_top: u32, height: u32, overscan: usize) -> Range<usize> {
        if self.rows == 0 || self.row_height == 0 {
            return 0..0;
        }
        // The rows a view can show (one more where it cuts two rows), the margins, and the
        // start's rounding down to a chunk.
        let in_view = height.div_ceil(self.row_height) as usize + 1;
        let span = (in_view + 2 * overscan + CHUNK).div_ceil(CHUNK) * CHUNK;
        let first = self.index_at(scroll_top);
        let start =
            (first.saturating_sub(overscan) / CHUNK * CHUNK).min(self.rows.saturating_sub(span));
        start..(start + span).min(self.rows)
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

/// Which element ("slot") each rendered row is drawn in, kept from one render to the next.
#[derive(Debug)]
pub struct Slots<K> {
    of: HashMap<K, u32>,
}

impl<K> Default for Slots<K> {
    fn default() -> Self {
        Slots { of: HashMap::new() }
    }
}

impl<K: Copy + Eq + Hash> Slots<K> {
    /// The slot of each of `keys` (the rows to render, in order). A key rendered last time
    /// keeps its slot; the others take the lowest slots no kept key holds, so slots freed by
    /// rows scrolled out are reused first and the numbers stay below the longest window seen.
    /// A key given twice gets two slots: no slot is ever handed out twice in one render.
    pub fn assign(&mut self, keys: &[K]) -> Vec<u32> {
        // Slots in `of` are distinct, and a key's entry is taken out at its first sight.
        let kept: Vec<Option<u32>> = keys.iter().map(|key| self.of.remove(key)).collect();
        let taken: HashSet<u32> = kept.iter().flatten().copied().collect();
        let mut free = (0_u32..).filter(|slot| !taken.contains(slot));
        let slots: Vec<u32> = kept
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| free.next().unwrap_or(u32::MAX)))
            .collect();
        self.of = keys.iter().copied().zip(slots.iter().copied()).collect();
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_as_set(slots: &[u32]) -> std::collections::BTreeSet<u32> {
        slots.iter().copied().collect()
    }

    #[test]
    fn the_first_rows_take_slots_in_order() {
        let mut slots = Slots::default();
        assert_eq!(
            slots.assign(&[10, 11, 12]),
            vec![0, 1, 2],
            "fresh rows fill slots 0..n"
        );
    }

    #[test]
    fn scrolling_hands_the_rows_that_left_their_slots_to_the_rows_that_came() {
        let mut slots = Slots::default();
        let before = slots.assign(&(100..130).collect::<Vec<_>>());
        let after = slots.assign(&(104..134).collect::<Vec<_>>());
        assert_eq!(
            after[..26],
            before[4..],
            "a row still rendered keeps its slot (so its element, its focus and its state)"
        );
        assert_eq!(
            slots_as_set(&after),
            slots_as_set(&before),
            "the rows scrolled in take exactly the slots of those scrolled out: no new element"
        );
        let back = slots.assign(&(96..126).collect::<Vec<_>>());
        assert_eq!(
            back[8..],
            after[..22],
            "scrolling back keeps the rows still rendered"
        );
        assert_eq!(
            slots_as_set(&back),
            slots_as_set(&before),
            "and makes no new slot either"
        );
    }

    #[test]
    fn a_longer_window_adds_slots_and_a_shorter_one_keeps_its_rows_slots() {
        let mut slots = Slots::default();
        slots.assign(&[1, 2, 3, 4]);
        assert_eq!(slots.assign(&[1, 2, 3, 4, 5, 6]), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(
            slots.assign(&[5, 6]),
            vec![4, 5],
            "rows left keep their slots"
        );
        assert_eq!(
            slots.assign(&[6]),
            vec![5],
            "even a slot above the window's length"
        );
        assert_eq!(
            slots.assign(&[6, 7, 8]),
            vec![5, 0, 1],
            "new rows take the lowest free slots"
        );
    }

    #[test]
    fn a_whole_new_list_reuses_every_slot() {
        let mut slots = Slots::default();
        slots.assign(&[1, 2, 3]);
        assert_eq!(
            slots_as_set(&slots.assign(&[7, 8, 9])),
            slots_as_set(&[0, 1, 2]),
            "a new filter or order draws its rows in the old rows' elements"
        );
    }

    #[test]
    fn a_row_given_twice_never_shares_a_slot() {
        let mut slots = Slots::default();
        slots.assign(&[1, 2]);
        let twice = slots.assign(&[2, 2, 3]);
        assert_eq!(twice[0], 1, "the first of the pair keeps the row's slot");
        assert_eq!(
            slots_as_set(&twice).len(),
            3,
            "each rendered row has an element of its own: {twice:?}"
        );
    }

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
            4_992..5_024,
            "eleven rows in view, the margin on each side and a chunk for the rounding"
        );
        let segments = layout.segments(window.clone());
        assert_eq!(
            segments,
            vec![
                Segment::Gap(64 * 4_992),
                Segment::Rows(window),
                Segment::Gap(64 * (10_000 - 5_024)),
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
    fn the_first_screen_renders_only_the_rows_in_view_and_the_margins_follow() {
        let layout = Layout::new(10_000, None, 0);
        let first = layout.window(0, 640, margin(false));
        assert_eq!(
            first,
            0..16,
            "before the first paint: the eleven rows a 640 px view shows, rounded up to chunks"
        );
        assert_eq!(
            layout.window(0, 640, margin(true)),
            0..32,
            "once painted: the margin below the view as well"
        );
    }

    #[test]
    fn the_window_is_clamped_at_both_ends() {
        let layout = Layout::new(20, None, 0);
        assert_eq!(layout.window(0, 640, OVERSCAN), 0..20, "top of the list");
        assert_eq!(
            layout.window(64 * 100, 640, OVERSCAN),
            0..20,
            "scrolled past the end: the whole short list, as long as the window can be"
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
    fn the_window_keeps_its_length_as_the_list_scrolls() {
        // A window that grew and shrank by a chunk as it scrolled would drop a chunk of row
        // elements and make new ones every few rows: the slots are reused only if their number
        // holds.
        for (rows, tall) in [(10_000, None), (10_000, Some(5_050)), (30, None)] {
            let layout = Layout::new(rows, tall, 400);
            let mut lengths = std::collections::BTreeSet::new();
            for px in (0..layout.total_height()).step_by(7) {
                let window = layout.window(px, 640, OVERSCAN);
                let last = layout.index_at(px + 640);
                assert!(
                    window.end >= (last + 1 + OVERSCAN).min(rows),
                    "the margin below the view is always rendered (at {px}: {window:?})"
                );
                assert!(
                    window.start + OVERSCAN <= layout.index_at(px) || window.start == 0,
                    "the margin above the view is always rendered (at {px}: {window:?})"
                );
                lengths.insert(window.len());
            }
            assert_eq!(
                lengths.len(),
                1,
                "{rows} rows (tall row {tall:?}): the window has one length from top to end: \
                 {lengths:?}"
            );
        }
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
            Segment::Gap(64 * (900 - 32)),
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
