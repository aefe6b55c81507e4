"""What the Gradio front end shows, as plain functions: HTML rendering and form parsing."""
