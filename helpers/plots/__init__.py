"""Every figure of the course, one module per family of figures.

===================  =================================================================
module               what it draws
===================  =================================================================
``images``           the images themselves: grids, class means, class counts, maps on a
                     diverging scale (kernels, feature maps, occlusion maps), augmented
                     samples
``curves``           training over its epochs: learning curves, several runs overlaid,
                     TensorBoard scalars read back from their event files
``predictions``      what a classifier predicts: confusion matrices, probabilities,
                     right and wrong predictions, confident mistakes, confidence,
                     readings of a student's drawings
``model_drawings``   a model's layers (``plot_model`` or a matplotlib layer stack)
``comparisons``      configurations compared: means over seeds with their spread, curves
                     with a band, accuracy against cost
===================  =================================================================

One rule: a function that draws returns a matplotlib ``Figure`` and lives here.
It never calls ``plt.show()``; in a notebook assign the result
(``fig = helpers.plot_learning_curves(run)``): Jupyter's inline backend then shows
the figure once, and no ``<Figure ...>`` text is printed under it. The numbers a
figure shows are computed elsewhere (``evaluation``, ``training``, ``experiments``)
or by sklearn. Notebooks call every figure by its name in ``helpers``.
"""
