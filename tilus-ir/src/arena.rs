//! Arenas with typed `u32` handles.
//!
//! Every entity of a function (variables, scalar expressions, tensors, instructions, layouts)
//! lives in an [`Arena`] owned by the function and is referred to by a [`Handle`]: a 4-byte
//! index that knows, through its type parameter, which arena it indexes. Handles are cheap to
//! copy and compare, and `Option<Handle<T>>` is still 4 bytes because the index is stored as a
//! non-zero integer. [`UniqueArena`] additionally hash-conses its values (layouts), so two
//! handles are equal exactly when the values are equal.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::num::NonZeroU32;

/// A typed index into an [`Arena<T>`] or a [`UniqueArena<T>`].
pub struct Handle<T> {
    index: NonZeroU32,
    marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// The handle of the `index`-th value (0-based). Returns `None` past `u32::MAX - 1`.
    pub fn from_index(index: usize) -> Option<Self> {
        let raw = u32::try_from(index).ok()?.checked_add(1)?;
        NonZeroU32::new(raw).map(|index| Handle {
            index,
            marker: PhantomData,
        })
    }

    /// The 0-based position of the value in its arena.
    pub fn index(self) -> usize {
        (self.index.get() - 1) as usize
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<T> Eq for Handle<T> {}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Handle<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index.cmp(&other.index)
    }
}
impl<T> Hash for Handle<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.index.hash(state)
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = std::any::type_name::<T>();
        let short = name.rsplit("::").next().unwrap_or(name);
        write!(f, "{short}#{}", self.index())
    }
}

/// An append-only vector of values addressed by [`Handle`]s.
#[derive(Clone, PartialEq)]
pub struct Arena<T> {
    items: Vec<T>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { items: Vec::new() }
    }
}

impl<T: fmt::Debug> fmt::Debug for Arena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T> Arena<T> {
    /// An empty arena.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a value and returns its handle.
    ///
    /// # Panics
    /// Only when the arena already holds `u32::MAX - 1` values, which no program reaches
    /// (a function that large could not be printed, parsed or compiled).
    pub fn alloc(&mut self, value: T) -> Handle<T> {
        let handle = Handle::from_index(self.items.len())
            .expect("arena overflow: more than u32::MAX - 1 entities in one function");
        self.items.push(value);
        handle
    }

    /// The value of a handle, or `None` for a handle from another (larger) arena.
    pub fn try_get(&self, handle: Handle<T>) -> Option<&T> {
        self.items.get(handle.index())
    }

    /// Mutable access to the value of a handle, or `None` when out of range.
    pub fn try_get_mut(&mut self, handle: Handle<T>) -> Option<&mut T> {
        self.items.get_mut(handle.index())
    }

    /// Whether `handle` indexes a value of this arena.
    pub fn contains(&self, handle: Handle<T>) -> bool {
        handle.index() < self.items.len()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the arena is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All handles and values, in allocation order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Handle::from_index(i).map(|h| (h, v)))
    }
}

impl<T> std::ops::Index<Handle<T>> for Arena<T> {
    type Output = T;
    /// Handles are only created by the arena they index (and checked by the verifier's
    /// handle pass for programs built by hand), so indexing is in bounds.
    fn index(&self, handle: Handle<T>) -> &T {
        &self.items[handle.index()]
    }
}

impl<T> std::ops::IndexMut<Handle<T>> for Arena<T> {
    fn index_mut(&mut self, handle: Handle<T>) -> &mut T {
        &mut self.items[handle.index()]
    }
}

/// An arena that stores each distinct value once: interning `v` twice gives the same handle.
#[derive(Clone)]
pub struct UniqueArena<T: Eq + Hash + Clone> {
    arena: Arena<T>,
    lookup: HashMap<T, Handle<T>>,
}

impl<T: Eq + Hash + Clone> Default for UniqueArena<T> {
    fn default() -> Self {
        UniqueArena {
            arena: Arena::new(),
            lookup: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash + Clone + fmt::Debug> fmt::Debug for UniqueArena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.arena.fmt(f)
    }
}

impl<T: Eq + Hash + Clone> UniqueArena<T> {
    /// An empty arena.
    pub fn new() -> Self {
        Self::default()
    }

    /// The handle of `value`, inserting it if it is new.
    pub fn intern(&mut self, value: T) -> Handle<T> {
        if let Some(&h) = self.lookup.get(&value) {
            return h;
        }
        let h = self.arena.alloc(value.clone());
        self.lookup.insert(value, h);
        h
    }

    /// The value of a handle, or `None` when out of range.
    pub fn try_get(&self, handle: Handle<T>) -> Option<&T> {
        self.arena.try_get(handle)
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.arena.len()
    }

    /// Whether the arena is empty.
    pub fn is_empty(&self) -> bool {
        self.arena.is_empty()
    }

    /// All handles and values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.arena.iter()
    }
}

impl<T: Eq + Hash + Clone> std::ops::Index<Handle<T>> for UniqueArena<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        &self.arena[handle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_small_and_typed() {
        assert_eq!(std::mem::size_of::<Option<Handle<String>>>(), 4);
        let mut a = Arena::new();
        let h = a.alloc("x".to_string());
        assert_eq!(a[h], "x");
        assert_eq!(h.index(), 0);
        assert!(a.contains(h));
    }

    #[test]
    fn unique_arena_interns() {
        let mut u = UniqueArena::new();
        let a = u.intern(vec![1, 2]);
        let b = u.intern(vec![1, 2]);
        let c = u.intern(vec![3]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(u.len(), 2);
    }
}
