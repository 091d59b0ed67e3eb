"""Qt widgets only: windows, views, plots, dialogs and themes. Views observe; they own no data."""
