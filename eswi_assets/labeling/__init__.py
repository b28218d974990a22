"""Plain labeling code: seed labels, corpus sentences for annotators, doccano's REST API, and the
vote and agreement that turn annotations into one label per sentence."""
