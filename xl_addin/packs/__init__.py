"""Template packs: the letter and statement templates and branch profiles head office keeps."""
