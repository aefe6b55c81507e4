"""Everything that fills the store: loaders, the splitter and the incremental pipeline."""
