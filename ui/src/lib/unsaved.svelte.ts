// One screen at a time may hold unsaved edits (the mapping screen's draft). App.svelte asks
// before navigating away, so a click on the sidebar never throws a user's edits away.

interface Guard {
  /** What has unsaved changes, named for the dialog ("the local profile"). */
  what: () => string | null;
  save: () => Promise<boolean>;
  discard: () => void;
}

let current: Guard | null = null;

export function guardUnsaved(g: Guard): () => void {
  current = g;
  return () => {
    if (current === g) current = null;
  };
}

export function unsaved(): Guard | null {
  return current && current.what() !== null ? current : null;
}
