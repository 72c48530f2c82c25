//! Keyset pagination: a page of items and where the next one starts.

/// Which page of a list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The sort key of the last item already seen (the cursor); `None` for the first page.
    pub after: Option<i64>,
    /// The most items to return, at least 1.
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            after: None,
            limit: 100,
        }
    }
}

impl PageRequest {
    /// The cursor for an ascending list (items with a greater key come next).
    pub(crate) fn after_ascending(&self) -> i64 {
        self.after.unwrap_or(i64::MIN)
    }

    /// The cursor for a descending list (items with a smaller key come next).
    pub(crate) fn after_descending(&self) -> i64 {
        self.after.unwrap_or(i64::MAX)
    }

    /// One more than the limit, so a full page knows whether another follows.
    pub(crate) fn fetch(&self) -> i64 {
        i64::from(self.limit.max(1)) + 1
    }

    /// Cuts the fetched `(key, item)` pairs to the limit and notes the next cursor.
    pub(crate) fn finish<T>(&self, keyed: Vec<(i64, T)>) -> Page<T> {
        let limit = usize::try_from(self.limit.max(1)).unwrap_or(usize::MAX);
        let more = keyed.len() > limit;
        let mut items = Vec::with_capacity(keyed.len().min(limit));
        let mut last = None;
        for (key, item) in keyed.into_iter().take(limit) {
            last = Some(key);
            items.push(item);
        }
        Page {
            items,
            next: if more { last } else { None },
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<i64>,
}

impl<T> Page<T> {
    /// The same page with each item turned into another type.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_points_at_the_next_one() {
        let request = PageRequest {
            after: None,
            limit: 2,
        };
        let page = request.finish(vec![(1, "a"), (4, "b"), (7, "c")]);
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next, Some(4));
    }

    #[test]
    fn the_last_page_has_no_next_cursor() {
        let request = PageRequest {
            after: Some(4),
            limit: 2,
        };
        assert_eq!(request.fetch(), 3);
        let page = request.finish(vec![(7, "c")]);
        assert_eq!(page.items, vec!["c"]);
        assert_eq!(page.next, None);
    }
}
