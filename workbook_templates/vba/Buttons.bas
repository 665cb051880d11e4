Attribute VB_Name = "Buttons"
' The workbook's buttons. Each is one line: the work is done in Python, by the entry
' points of xl_addin.macros, the same services as the credit-control command.
Option Explicit

Sub RefreshButton()
    RunPython "import xl_addin.macros as m; m.refresh()"
End Sub

Sub GenerateLettersButton()
    RunPython "import xl_addin.macros as m; m.generate_letters()"
End Sub

Sub StatementsButton()
    RunPython "import xl_addin.macros as m; m.statements()"
End Sub

Sub ValidateButton()
    RunPython "import xl_addin.macros as m; m.validate()"
End Sub
