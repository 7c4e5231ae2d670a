"""Tools for instructors and maintainers of the course: never imported by a notebook.

The notebooks import ``helpers`` (the student-facing package that Colab installs);
this package drives them from the outside: it runs them headless and tabulates
their results (``runner``), compares a run with the committed reference results
(``reference``) and keeps stored notebooks free of volatile metadata
(``notebook_format``). It lives at the top of the repository and is not installed
by pip: use it from a checkout, through ``./course`` or ``python -m course_tools``.
"""
