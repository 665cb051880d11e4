"""Reading and writing credit-control workbooks (calamine to read, openpyxl to write)."""
