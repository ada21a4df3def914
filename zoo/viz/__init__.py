"""Pictures and tables of evaluation results: Rich tables, SOT success/precision plots, rendered MOT videos,
VOS mask overlays.

Submodules import their heavy dependencies (matplotlib, OpenCV) lazily; import them directly:
``zoo.viz.tables``, ``zoo.viz.sot_plots``, ``zoo.viz.mot_render``, ``zoo.viz.vos_render``.
"""
