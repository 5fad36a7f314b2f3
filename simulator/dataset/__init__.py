"""The dataset on disk: its layout and manifest, the encodings of the pass images, and the atomic
writes every file goes through (writers' too, hence below the plugin wing)."""
