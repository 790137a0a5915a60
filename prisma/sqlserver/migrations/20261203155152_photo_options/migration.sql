BEGIN TRY

BEGIN TRAN;

-- AlterTable
ALTER TABLE [dbo].[files] ADD [camera_make] NVARCHAR(255);

-- AlterTable
ALTER TABLE [dbo].[files] ADD [camera_model] NVARCHAR(255);

-- AlterTable
ALTER TABLE [dbo].[import_jobs] ADD [thumbnails] BIT NOT NULL CONSTRAINT [import_jobs_thumbnails_df] DEFAULT 0;

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
