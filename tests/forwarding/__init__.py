"""Issue 4: the units directory and routing, delivery to the units, and the draft documents."""
