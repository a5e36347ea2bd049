"""The UI shell: base layout, navigation from plugins, the dashboard and admin pages."""
