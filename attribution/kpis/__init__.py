"""The KPI layer: credit by key, journey statistics, the ROI report, funnel, detail, intervals."""
