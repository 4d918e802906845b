//! Node storage for the wheel: a slab of 64-node pages.
//!
//! Why not a flat `Vec` slab: a `Vec` never gives its peak capacity back, so a process that once held
//! ten million timers would keep hundreds of megabytes after they are gone. Here a page is freed when
//! its last node is, except that one empty page is kept as a spare, and a slab that empties returns to
//! that single page. The spare is what keeps a create/stop loop from allocating and freeing a page on
//! every timer when all other pages are full. Emptying shrinks the page vectors in place, so that a
//! shard whose only timer comes and goes allocates nothing under its lock (`tests/shard_alloc.rs`
//! counts it).
//!
//! Keys are `page << 6 | index` and stay valid until their node is removed, so the wheel can relink a
//! node between slots (cascading) without its owner noticing.

/// "No node": the end of a list, or an empty slot.
pub(crate) const NIL: u32 = u32::MAX;

const PAGE_BITS: u32 = 6;
const PAGE_LEN: usize = 1 << PAGE_BITS;
const FULL: u64 = u64::MAX;

/// Keys at or above this are reserved: the wheel marks list heads with the top bit.
pub(super) const MAX_KEYS: u32 = 1 << 31;

/// One timer in the wheel: its list links, its deadline, and what the owner stored.
pub(super) struct Node<T> {
    pub(super) prev: u32,
    pub(super) next: u32,
    pub(super) deadline: u64,
    pub(super) value: T,
}

struct Page<T> {
    /// Bit `i` is set when `nodes[i]` holds a node.
    used: u64,
    /// Links of the list of pages that have a free node (`NIL` ends it).
    prev_partial: u32,
    next_partial: u32,
    nodes: [Option<Node<T>>; PAGE_LEN],
}

pub(super) struct Slab<T> {
    pages: Vec<Option<Box<Page<T>>>>,
    /// Indices into `pages` that hold `None`, for reuse.
    free_pages: Vec<u32>,
    /// First page with at least one free node.
    partial: u32,
    /// Allocated pages with no node (0 or 1: a second one is freed).
    empty: u32,
    len: usize,
}

impl<T> Slab<T> {
    pub(super) const fn new() -> Self {
        Slab {
            pages: Vec::new(),
            free_pages: Vec::new(),
            partial: NIL,
            empty: 0,
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub(super) fn insert(&mut self, node: Node<T>) -> u32 {
        if self.partial == NIL {
            self.add_page();
        }
        let p = self.partial;
        let page = self.page_mut(p);
        let was_empty = page.used == 0;
        let i = (!page.used).trailing_zeros();
        page.used |= 1 << i;
        page.nodes[i as usize] = Some(node);
        if page.used == FULL {
            self.unlink_partial(p);
        }
        if was_empty {
            self.empty -= 1;
        }
        self.len += 1;
        (p << PAGE_BITS) | i
    }

    /// Removes the node at `key`. Panics if there is none: keys come only from `insert`.
    pub(super) fn remove(&mut self, key: u32) -> Node<T> {
        let (p, i) = split(key);
        let page = self.page_mut(p);
        let node = page.nodes[i]
            .take()
            .expect("gotimer: wheel key points at an empty node");
        let was_full = page.used == FULL;
        page.used &= !(1 << i);
        let now_empty = page.used == 0;
        if was_full {
            self.link_partial(p);
        }
        self.len -= 1;
        if self.len == 0 {
            if self.pages.len() > 1 || self.free_pages.capacity() > 0 {
                self.shrink_to_spare(p);
            } else {
                // Already one page, which is the spare now (and the partial list's only page).
                self.empty = 1;
            }
        } else if now_empty && self.empty == 0 {
            self.empty = 1;
        } else if now_empty {
            self.unlink_partial(p);
            self.pages[p as usize] = None;
            self.free_pages.push(p);
        }
        node
    }

    pub(super) fn get(&self, key: u32) -> &Node<T> {
        let (p, i) = split(key);
        self.pages[p as usize]
            .as_ref()
            .and_then(|page| page.nodes[i].as_ref())
            .expect("gotimer: wheel key points at an empty node")
    }

    pub(super) fn get_mut(&mut self, key: u32) -> &mut Node<T> {
        let (p, i) = split(key);
        self.page_mut(p).nodes[i]
            .as_mut()
            .expect("gotimer: wheel key points at an empty node")
    }

    /// Calls `f` on every node, in no particular order.
    pub(super) fn for_each(&self, mut f: impl FnMut(&Node<T>)) {
        for page in self.pages.iter().flatten() {
            page.nodes.iter().flatten().for_each(&mut f);
        }
    }

    fn page_mut(&mut self, p: u32) -> &mut Page<T> {
        self.pages[p as usize]
            .as_deref_mut()
            .expect("gotimer: wheel key points at a freed page")
    }

    fn add_page(&mut self) {
        self.empty += 1;
        let page = Box::new(Page {
            used: 0,
            prev_partial: NIL,
            next_partial: NIL,
            nodes: std::array::from_fn(|_| None),
        });
        let p = match self.free_pages.pop() {
            Some(p) => {
                self.pages[p as usize] = Some(page);
                p
            }
            None => {
                let p = self.pages.len() as u32;
                assert!(
                    (p as u64) < (MAX_KEYS as u64 >> PAGE_BITS),
                    "gotimer: more than 2^31 pending timers in one shard"
                );
                self.pages.push(Some(page));
                p
            }
        };
        self.link_partial(p);
    }

    /// The slab just became empty: keep page `p` as the spare, move it to index 0, free the rest
    /// (at most one other page, the previous spare). The vectors shrink in place to what one page
    /// needs (room for one page, no free list), which reallocates only if they had grown since the
    /// slab last emptied: a create/stop loop that empties the shard each time allocates nothing here,
    /// under the shard lock, and a burst leaves nothing behind.
    fn shrink_to_spare(&mut self, p: u32) {
        let spare = self.pages[p as usize].take();
        self.pages.clear();
        self.pages.shrink_to(1);
        self.pages.push(spare);
        self.free_pages.clear();
        self.free_pages.shrink_to(0);
        self.empty = 1;
        let page = self.page_mut(0);
        page.prev_partial = NIL;
        page.next_partial = NIL;
        self.partial = 0;
    }

    fn link_partial(&mut self, p: u32) {
        let old = self.partial;
        {
            let page = self.page_mut(p);
            page.prev_partial = NIL;
            page.next_partial = old;
        }
        if old != NIL {
            self.page_mut(old).prev_partial = p;
        }
        self.partial = p;
    }

    fn unlink_partial(&mut self, p: u32) {
        let (prev, next) = {
            let page = self.page_mut(p);
            (page.prev_partial, page.next_partial)
        };
        if prev == NIL {
            self.partial = next;
        } else {
            self.page_mut(prev).next_partial = next;
        }
        if next != NIL {
            self.page_mut(next).prev_partial = prev;
        }
    }
}

fn split(key: u32) -> (u32, usize) {
    (key >> PAGE_BITS, (key as usize) & (PAGE_LEN - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(v: u32) -> Node<u32> {
        Node {
            prev: NIL,
            next: NIL,
            deadline: 0,
            value: v,
        }
    }

    #[test]
    fn fills_pages_and_frees_them() {
        let mut s = Slab::new();
        let keys: Vec<u32> = (0..200).map(|v| s.insert(node(v))).collect();
        assert_eq!(s.len(), 200);
        assert_eq!(s.pages.iter().flatten().count(), 4);
        for (v, &k) in keys.iter().enumerate() {
            assert_eq!(s.get(k).value, v as u32);
        }
        // Emptying a middle page keeps it as the spare; emptying a second one frees that one.
        for &k in &keys[64..128] {
            s.remove(k);
        }
        assert_eq!(s.pages.iter().flatten().count(), 4);
        for &k in &keys[0..64] {
            s.remove(k);
        }
        assert_eq!(s.pages.iter().flatten().count(), 3);
        let keys: Vec<u32> = keys[64..].to_vec();
        // The freed page's index is reused once the spare and the partial last page are full.
        let more: Vec<u32> = (0..57 + 64).map(|v| s.insert(node(v))).collect();
        assert_eq!(more[120] >> PAGE_BITS, 0);
        assert_eq!(s.pages.iter().flatten().count(), 4);
        for k in more {
            s.remove(k);
        }
        for &k in &keys[64..] {
            s.remove(k);
        }
        assert_eq!(s.len(), 0);
        assert_eq!(s.pages.len(), 1, "an empty slab keeps one spare page");
        let mut n = 0;
        s.for_each(|_| n += 1);
        assert_eq!(n, 0);
    }

    #[test]
    fn full_pages_do_not_make_a_create_remove_loop_allocate() {
        let mut s = Slab::new();
        let _full: Vec<u32> = (0..256).map(|v| s.insert(node(v))).collect();
        assert_eq!(s.pages.len(), 4);
        for v in 0..1000 {
            let k = s.insert(node(v));
            assert_eq!(k >> PAGE_BITS, 4, "always the same fifth page");
            s.remove(k);
            assert_eq!(s.pages.iter().flatten().count(), 5, "the spare is kept");
        }
    }

    #[test]
    fn an_emptied_slab_gives_back_the_room_of_a_burst() {
        let mut s = Slab::new();
        let keys: Vec<u32> = (0..64 * 100).map(|v| s.insert(node(v))).collect();
        assert!(s.pages.capacity() >= 100);
        // Free from the front, so that freed page indices pile up in `free_pages`.
        for k in keys {
            s.remove(k);
        }
        assert_eq!(s.pages.len(), 1);
        assert_eq!((s.pages.capacity(), s.free_pages.capacity()), (1, 0));
        let k = s.insert(node(7));
        assert_eq!(s.remove(k).value, 7);
    }

    #[test]
    fn create_remove_loop_reuses_the_spare() {
        let mut s = Slab::new();
        for v in 0..1000 {
            let k = s.insert(node(v));
            assert_eq!(k, 0);
            assert_eq!(s.remove(k).value, v);
        }
        assert_eq!(s.pages.len(), 1);
    }
}
