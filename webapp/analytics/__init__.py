"""Campaign and audience analytics: rollups kept by the event worker, reports, charts and the stats API."""
