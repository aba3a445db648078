"""Train stage: fine-tune an embedding model on your own data (`yuyi train`), with hard
negatives mined through yuyi's own index and an honest held-out before/after report."""
