"""The dataset on disk: its layout and manifest, the encodings of the pass images, the atomic
writes every file goes through (writers' too, hence below the plugin wing), and the one reader
of a finished dataset folder."""
