"""Golden model of the SUSPEND-capable virtio device engine: pure Python, standard library only (see SPEC.md)."""
